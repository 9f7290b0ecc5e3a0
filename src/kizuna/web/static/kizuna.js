// Kizuna UI: the few lines of script it has (no inline script; CSP script-src 'self').
// A form with data-progress says so while the node works on it (file imports).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var text = form.getAttribute("data-progress");
  if (!text) { return; }
  var status = form.querySelector(".progress");
  if (status) { status.textContent = text; }
  var button = form.querySelector("button[type=submit]");
  if (button) { button.disabled = true; }
});
