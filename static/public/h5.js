// Progressive help for the report form (it works without this script):
// shrink big phone photos before upload (faster on slow networks) and stop double submits.
(function () {
  var form = document.querySelector("form.report");
  if (!form) return;
  var input = form.querySelector("input[type=file]");
  var max = parseInt(form.getAttribute("data-max-photos") || "3", 10);

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < 600 * 1024 || !window.createImageBitmap) {
        return resolve(file);
      }
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }) : file);
        }, "image/jpeg", 0.85);
      }, function () { resolve(file); });
    });
  }

  if (input && window.DataTransfer) {
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files, 0, max);
      if (input.files.length > max) alert("最多上传" + max + "张照片，已保留前" + max + "张");
      Promise.all(files.map(shrink)).then(function (done) {
        var list = new DataTransfer();
        done.forEach(function (f) { list.items.add(f); });
        input.files = list.files;
      });
    });
  }
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    setTimeout(function () { button.disabled = true; button.textContent = "正在提交…"; }, 0);
  });
})();
