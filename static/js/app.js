// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", () => {
  const menu = document.querySelector("details.menu");
  if (menu) menu.open = false;
});
