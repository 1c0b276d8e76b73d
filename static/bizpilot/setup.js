/* The setup page's copy buttons (templates/admin/onboarding/setup.html). */
document.querySelectorAll(".bp-copy").forEach(function (button) {
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () {
      button.textContent = "Copied";
    }, function () {
      button.textContent = "Select and copy";
    });
  });
});
