// Phone photos exceed the service's 1 MiB request limit: scale them down here before sending,
// smaller and more compressed until the picture fits (a QR needs far fewer pixels).
(function () {
  var LIMIT = 900000;
  var form = document.getElementById("verify-form");
  var input = document.getElementById("photo");
  function shrink(bitmap, side, quality, done) {
    var scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (blob.size > LIMIT && side > 600) { shrink(bitmap, side * 0.8, 0.75, done); }
      else { done(blob); }
    }, "image/jpeg", quality);
  }
  form.addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (!file || file.size < LIMIT || !window.createImageBitmap) { return; }
    event.preventDefault();
    createImageBitmap(file).then(function (bitmap) {
      shrink(bitmap, 1600, 0.85, function (blob) {
        var data = new FormData(form);
        data.set("photo", blob, "photo.jpg");
        fetch(form.action, { method: "POST", body: data })
          .then(function (response) { return response.text(); })
          .then(function (html) { document.open(); document.write(html); document.close(); });
      });
    });
  });
})();
