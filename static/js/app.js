// Small progressive enhancements; every page works without this file.
// The content-security policy forbids inline handlers, so behaviour is declared with data
// attributes and wired here: data-confirm (ask before submitting a form), data-autosubmit (submit
// the form when a field changes), data-print (print the page).
// From 1024 px the menu is a bar that stays open (no ☰ on a desktop); below, a ☰ drop-down that
// closes after an htmx swap.
const wideScreen = window.matchMedia("(min-width: 1024px)");

function pinMenu() {
  const menu = document.querySelector("details.menu");
  if (!menu) return;
  menu.classList.toggle("menu-pinned", wideScreen.matches);
  menu.open = wideScreen.matches;
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", pinMenu);
else pinMenu();
wideScreen.addEventListener("change", pinMenu);

document.addEventListener("htmx:afterSwap", () => {
  const menu = document.querySelector("details.menu");
  if (menu && !wideScreen.matches) menu.open = false;
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

document.addEventListener("change", (event) => {
  const field = event.target;
  if (!(field instanceof Element) || !field.hasAttribute("data-autosubmit")) return;
  if (field.form) field.form.requestSubmit();
});

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (target) window.print();
});

// Lists as cards on a phone (static/css/app.css, `table.table-cards`): each cell is labelled with
// its column's header, which the card shows in front of the value. Cells that already carry a
// data-label keep theirs; htmx-swapped lists are labelled as they arrive.
function labelCardCells(root) {
  root.querySelectorAll("table.table-cards").forEach((table) => {
    const headers = Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim());
    table.querySelectorAll("tbody tr").forEach((row) => {
      let column = 0;
      Array.from(row.cells).forEach((cell) => {
        if (!cell.hasAttribute("data-label") && headers[column]) cell.dataset.label = headers[column];
        column += cell.colSpan || 1;
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", () => labelCardCells(document));
document.addEventListener("htmx:afterSettle", (event) => labelCardCells(event.target));
