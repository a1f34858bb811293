// Light and dark themes. Without a choice the page follows the system setting; a choice made
// with the toggle is remembered in localStorage (it holds no secret).

const KEY = "openshield.theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

function current() {
  const chosen = localStorage.getItem(KEY);
  if (chosen === "dark" || chosen === "light") return chosen;
  return media.matches ? "dark" : "light";
}

function apply(button) {
  const theme = current();
  document.documentElement.dataset.theme = theme;
  const dark = theme === "dark";
  // a toggle button: constant label, state in aria-pressed
  button.setAttribute("aria-pressed", String(dark));
}

export function initTheme(button) {
  apply(button);
  button.addEventListener("click", () => {
    localStorage.setItem(KEY, current() === "dark" ? "light" : "dark");
    apply(button);
  });
  media.addEventListener("change", () => apply(button));
}
