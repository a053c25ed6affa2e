// orga console: small enhancements only; every page works without this file.
// Forms marked data-confirm ask before they are sent.
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
