// orga console: small enhancements only; every page works without this file.
// Forms marked data-confirm ask before they are sent.
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// A page part marked data-poll="<seconds>" (a running import's progress) follows the server
// in place: the page is fetched again every few seconds and the progress bar and its text
// take the new values (the text is a polite live region, so a change is announced once).
// When the part is gone from the fresh page (the import has ended), the page is reloaded.
// Without this script the page refreshes itself (<noscript><meta http-equiv="refresh">).
const poll = document.querySelector("[data-poll]");
if (poll) {
  const every = (Number(poll.getAttribute("data-poll")) || 2) * 1000;
  const follow = async () => {
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      const part = fresh.querySelector("[data-poll]");
      if (!response.ok || !part) {
        window.location.reload();
        return;
      }
      for (const element of poll.querySelectorAll("[id]")) {
        const twin = part.querySelector("#" + CSS.escape(element.id));
        if (!twin) continue;
        for (const name of ["value", "max"]) {
          if (twin.hasAttribute(name)) element.setAttribute(name, twin.getAttribute(name));
          else element.removeAttribute(name);
        }
        if (!element.children.length && element.textContent !== twin.textContent) {
          element.textContent = twin.textContent;
        }
      }
    } catch (error) {
      // offline for a moment: try again at the next tick
    }
    window.setTimeout(follow, every);
  };
  window.setTimeout(follow, every);
}
