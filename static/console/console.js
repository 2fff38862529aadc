// Small helpers for the console forms: the deadline a number of working days gives, and "select all".
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-deadlines]").forEach(function (box) {
    var table = JSON.parse(box.getAttribute("data-deadlines"));
    var input = box.querySelector("input[name=days]");
    var out = box.querySelector(".deadline");
    function show() { out.textContent = table[input.value] ? "办理时限：" + table[input.value] : "时限应为1到90个工作日"; }
    input.addEventListener("input", show); show();
  });
  var all = document.querySelector("#select-all");
  if (all) all.addEventListener("change", function () {
    document.querySelectorAll("input[name=numbers]").forEach(function (c) { c.checked = all.checked; });
  });
});
