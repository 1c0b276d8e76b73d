// The hot count on every admin page: asks /alerts/hot-count/ now and every 15 seconds, shows how many hot drafts
// wait for review, and, when a new one arrives while the page is open, shows a browser notification (once the
// person allowed them; the button asks).
(function () {
  "use strict";
  const box = document.getElementById("bp-hot");
  if (!box) return;
  const link = document.getElementById("bp-hot-link");
  const failed = document.getElementById("bp-alerts-failed");
  const button = document.getElementById("bp-notify");
  const every = window.BP_HOT_POLL_MS || 15000;
  const SEEN = "bizpilot.hot.newest";
  const canNotify = "Notification" in window;

  function render(data) {
    box.hidden = false;
    link.textContent = data.hot === 1 ? "1 hot lead waiting" : data.hot + " hot leads waiting";
    link.href = data.queue_url;
    box.classList.toggle("bp-hot-some", data.hot > 0);
    failed.hidden = data.failed_alerts === 0;
    failed.textContent = data.failed_alerts === 1 ? "1 alert failed" : data.failed_alerts + " alerts failed";
    failed.href = data.alerts_url;
    button.hidden = !(canNotify && data.notify && Notification.permission === "default");
  }

  function notify(data) {
    const stored = localStorage.getItem(SEEN);
    localStorage.setItem(SEEN, String(Math.max(data.newest_id, Number(stored || 0))));
    // The first look only learns what is there; a newer hot draft than any seen before is news.
    if (stored === null || data.newest_id <= Number(stored)) return;
    if (!(canNotify && data.notify && Notification.permission === "granted")) return;
    const note = new Notification("BizPilot: a hot lead is waiting", {
      body: data.hot === 1 ? "1 hot lead waits for review." : data.hot + " hot leads wait for review.",
      tag: "bizpilot-hot",
    });
    note.onclick = function () { window.focus(); window.location.href = data.queue_url; };
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      render(data);
      notify(data);
    } catch (error) {
      // The server is away for a moment: the next poll tries again.
    }
  }

  button.addEventListener("click", function () {
    Notification.requestPermission().then(function () { button.hidden = true; });
  });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  poll();
  setInterval(poll, every);
})();
