// The composer shows the subject for email and the template field for WhatsApp only.
(function () {
  var channel = document.getElementById("bp-channel");
  if (!channel) return;
  function update() {
    document.querySelectorAll(".bp-email-only").forEach(function (el) { el.hidden = channel.value !== "email"; });
    document.querySelectorAll(".bp-whatsapp-only").forEach(function (el) { el.hidden = channel.value !== "whatsapp"; });
  }
  channel.addEventListener("change", update);
  update();
})();
