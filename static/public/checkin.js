// Check-in: where the phone knows its place, it goes with the check-in (the form works without this script).
(function () {
  if (!navigator.geolocation) return;
  var forms = document.querySelectorAll("form.checkin");
  if (!forms.length) return;
  navigator.geolocation.getCurrentPosition(function (pos) {
    forms.forEach(function (form) {
      form.querySelector("[name=latitude]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = pos.coords.longitude.toFixed(6);
    });
  }, function () {}, { timeout: 5000, maximumAge: 60000 });
})();
