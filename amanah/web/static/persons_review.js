// The review queue by keyboard: a accept, r reject, s unsure (skip); each presses the visible
// button of the same form, so a key does exactly what a click does (CSRF token included).
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement) return;
  const button = document.querySelector(`.review-form button[data-key="${e.key.toLowerCase()}"]`);
  if (button) {
    e.preventDefault();
    button.click();
  }
});
