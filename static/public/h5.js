// Progressive help for the report form (it works without this script):
// shrink big phone photos before upload (faster on slow networks) and stop double submits.
(function () {
  var form = document.querySelector("form.report");
  if (!form) return;
  var input = form.querySelector("input[type=file]");
  var max = parseInt(form.getAttribute("data-max-photos") || "3", 10);
  var px = parseInt(form.getAttribute("data-photo-px") || "1600", 10);  // 0: send photos as they are

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!px || !/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < 600 * 1024 || !window.createImageBitmap) {
        return resolve(file);
      }
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, px / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }) : file);
        }, "image/jpeg", 0.8);
      }, function () { resolve(file); });
    });
  }

  var shrinking = null;  // the photos being shrunk: a submit meanwhile waits for them
  if (input && window.DataTransfer) {
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files, 0, max);
      if (input.files.length > max) alert("最多上传" + max + "张照片，已保留前" + max + "张");
      var job = shrinking = Promise.all(files.map(shrink)).then(function (done) {
        var list = new DataTransfer();
        done.forEach(function (f) { list.items.add(f); });
        input.files = list.files;
        if (shrinking === job) shrinking = null;
      });
    });
  }
  // 附近有相同的反映: while the citizen writes, ask for open reports of the same problem nearby and offer
  // "我也遇到" (a plain form post, so it counts once per person on the server) instead of filing again.
  var panel = document.getElementById("similar");
  var content = form.querySelector("textarea[name=content]");
  var place = form.querySelector("input[name=location]");
  var timer = null;
  function offer(list) {
    var ul = panel.querySelector("ul");
    ul.innerHTML = "";
    list.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "similar-item";
      li.setAttribute("data-number", item.number);
      var title = document.createElement("b");
      title.textContent = item.title;
      var meta = document.createElement("div");
      meta.className = "muted";
      meta.textContent = (item.location ? item.location + " · " : "") + item.submitted + " 提交 · " + item.state +
        (item.supporters ? " · " + item.supporters + " 人也遇到" : "");
      var b = document.createElement("button");
      b.type = "button"; b.className = "support"; b.textContent = "我也遇到";
      b.addEventListener("click", function () {
        var f = document.getElementById("support-form");
        f.action = "/c/" + encodeURIComponent(item.number) + "/support";
        f.submit();
      });
      li.appendChild(title); li.appendChild(meta); li.appendChild(b);
      ul.appendChild(li);
    });
    panel.hidden = list.length === 0;
  }
  function ask() {
    var text = (content.value + " " + (place ? place.value : "")).trim();
    if (text.length < 5 || !window.fetch) return;
    var url = form.getAttribute("data-similar") + "&text=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { similar: [] }; })
      .then(function (body) { offer(body.similar || []); }, function () {});
  }
  if (panel && content && form.getAttribute("data-similar")) {
    [content, place].forEach(function (el) {
      if (el) el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 500); });
    });
    if (content.value) ask();
  }

  form.addEventListener("submit", function (event) {
    var button = form.querySelector("button[type=submit]");
    setTimeout(function () { button.disabled = true; button.textContent = "正在提交…"; }, 0);
    if (shrinking) {
      event.preventDefault();
      shrinking.then(function () { form.submit(); });
    }
  });
})();
