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

// The segment builder on the people list (form[data-count]): the count follows the conditions
// as they change, from the page's count address (the same check and count the page shows
// after "Show people"); the count is a status region, so a change is announced once. "Save as
// segment" sends the conditions as they are now, not as the page was loaded.
const builderForm = document.querySelector("form[data-count]");
if (builderForm) {
  const output = document.getElementById("segment-count");
  let timer = 0;
  let asked = 0;
  const update = async () => {
    const mine = ++asked;
    const params = new URLSearchParams(new FormData(builderForm));
    try {
      const response = await fetch(builderForm.getAttribute("data-count") + "?" + params, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const body = await response.json();
      if (mine === asked && output && output.textContent !== body.text) {
        output.textContent = body.text;
      }
    } catch (error) {
      // offline for a moment: the next change asks again
    }
  };
  const later = (event) => {
    if (event.target.name === "q") return; // the search does not change the segment
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  };
  builderForm.addEventListener("input", later);
  builderForm.addEventListener("change", later);
  const save = document.getElementById("save-segment");
  if (save) {
    save.addEventListener("submit", () => {
      for (const old of save.querySelectorAll("input[data-builder]")) old.remove();
      for (const [key, value] of new FormData(builderForm)) {
        if (key === "q") {
          save.querySelector("input[name=q]").value = value;
          continue;
        }
        const hidden = document.createElement("input");
        Object.assign(hidden, { type: "hidden", name: key, value: value });
        hidden.setAttribute("data-builder", "");
        save.append(hidden);
      }
    });
  }
}

// A Markdown field (textarea[data-preview]: a call assignment's instructions, an event's
// description): the preview follows the Markdown
// as it is typed, rendered by the server (cmark's safe mode) from the address the attribute
// names; the form's "Preview" button shows the same without this script.
const previewed = document.querySelector("textarea[data-preview]");
if (previewed) {
  const section = document.getElementById("instructions-preview");
  const body = document.getElementById("preview-body");
  const token = previewed.form.querySelector("input[name=_csrf]").value;
  let timer = 0;
  let asked = 0;
  const update = async () => {
    const mine = ++asked;
    try {
      const response = await fetch(previewed.getAttribute("data-preview"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": token, Accept: "application/json" },
        body: new URLSearchParams({ [previewed.name]: previewed.value }),
      });
      const answer = await response.json();
      if (mine === asked && response.ok) {
        body.innerHTML = answer.html;
        section.hidden = false;
      }
    } catch (error) {
      // offline for a moment: the next change asks again
    }
  };
  previewed.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 400);
  });
}

// The call screen (form[data-call-report]): number keys choose the outcome (1–8, not while
// typing), Enter on a choice saves and goes on; what the caller typed is kept in this tab
// while a section's form (e.g. an event sign-up) takes them away and back.
const report = document.querySelector("form[data-call-report]");
if (report) {
  const typing = (element) =>
    element.matches("textarea, select, input:not([type=radio]):not([type=checkbox])");
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    const choice = report.querySelector(`input[name=outcome][data-key="${event.key}"]`);
    if (choice) {
      choice.checked = true;
      choice.focus();
      choice.dispatchEvent(new Event("change", { bubbles: true }));
      event.preventDefault();
    } else if (event.key === "Enter" && report.contains(event.target) && event.target.matches("input")) {
      event.preventDefault();
      report.requestSubmit(report.querySelector("button[value=next]"));
    }
  });
  const key = "orga.call." + report.getAttribute("action");
  const shownAgain = report.querySelector(".error");
  const kept = window.sessionStorage.getItem(key);
  if (kept && !shownAgain) {
    for (const [name, value] of JSON.parse(kept)) {
      for (const input of report.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
        if (input.type === "radio" || input.type === "checkbox") {
          if (input.value === value) input.checked = true;
        } else if (input.type !== "hidden" && input.type !== "submit") {
          input.value = value;
        }
      }
    }
  }
  const keep = () => {
    const entries = [...new FormData(report)].filter(([name]) => name !== "_csrf");
    window.sessionStorage.setItem(key, JSON.stringify(entries));
  };
  report.addEventListener("input", keep);
  report.addEventListener("change", keep);
  report.addEventListener("submit", () => window.sessionStorage.removeItem(key));
}

// A page part marked data-live="<seconds>" (an assignment's progress) is fetched again every
// few seconds and replaced by its fresh copy while the tab is visible; its "as of" line is a
// status region, so screen readers hear one short update. Without this script the page has a
// "Reload" link.
const live = document.querySelector("[data-live]");
if (live) {
  const every = (Number(live.getAttribute("data-live")) || 15) * 1000;
  const refresh = async () => {
    if (!document.hidden) {
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin" });
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        const part = response.ok && fresh.getElementById(live.id);
        if (part) live.replaceChildren(...part.childNodes);
      } catch (error) {
        // offline for a moment: try again at the next tick
      }
    }
    window.setTimeout(refresh, every);
  };
  window.setTimeout(refresh, every);
}

/* --- shifts26 --- */
// The check-in (events): each tap is one small POST. Without this script the form posts and
// the page comes back at the same row; with it the POST goes by fetch (Accept: JSON) and only
// the button changes. Typing in the search box narrows the list shown at once.
const checkin = document.querySelector("ul.checkin");
if (checkin) {
  checkin.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-tap]");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("button.tap");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || response.statusText);
      button.setAttribute("aria-pressed", answer.attended ? "true" : "false");
      button.querySelector(".state").textContent = checkin.getAttribute(
        answer.attended ? "data-on" : "data-off",
      );
    } catch (error) {
      form.submit(); // let the server answer with the page and its message
    } finally {
      button.disabled = false;
    }
  });
  const search = document.querySelector("[data-checkin-filter]");
  if (search) {
    search.addEventListener("input", () => {
      const text = search.value.trim().toLowerCase();
      for (const row of checkin.children) {
        row.hidden = Boolean(text) && !row.getAttribute("data-name").includes(text);
      }
    });
  }
}

/* --- mailings26 --- */
// The mailing composer (textarea[data-mail-preview]): the preview beside the form follows the
// subject, text and button as they are typed. The fields go (POST, with the CSRF token) to the
// address the attribute names, which answers the preview rendered by the server for the
// recipient chosen beside it (an HTML fragment); a newer answer wins. Choosing a recipient
// updates the preview and the test form. Without this script the form's "Preview" button and
// the recipient form show the same.
const mailText = document.querySelector("textarea[data-mail-preview]");
if (mailText) {
  const form = mailText.form;
  const chooser = document.getElementById("f-person");
  const token = form.querySelector("input[name=_csrf]").value;
  const names = ["subject", "body", "cta_url", "cta_label"];
  let timer = 0;
  let asked = 0;
  const update = async () => {
    const mine = ++asked;
    const fields = new URLSearchParams();
    for (const name of names) fields.set(name, form.elements[name].value);
    fields.set("person", chooser ? chooser.value : "");
    try {
      const response = await fetch(mailText.getAttribute("data-mail-preview"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": token },
        body: fields,
      });
      const fresh = new DOMParser()
        .parseFromString(await response.text(), "text/html")
        .getElementById("mail-preview-body");
      const shown = document.getElementById("mail-preview-body");
      if (mine === asked && fresh && shown) shown.replaceWith(fresh);
    } catch (error) {
      // offline for a moment: the next change asks again
    }
  };
  const later = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  };
  form.addEventListener("input", (event) => {
    if (names.includes(event.target.name)) later();
  });
  if (chooser) {
    chooser.addEventListener("change", () => {
      for (const hidden of document.querySelectorAll("input[type=hidden][name=person]")) {
        hidden.value = chooser.value;
      }
      later();
    });
  }
}
