// The kernel's additions to piccolo-admin's pages (see bankcrm/admin/ui.py): menu entries
// and headings titled by each screen's title, no button for an action the gate refuses,
// time inputs in the viewer's zone, a dash for an empty cell, links from rows to their
// staff page. The gate refuses those actions all the same.
(function () {
  "use strict";
  var known = null;
  var loading = false;

  function load() {
    if (loading) return;
    loading = true;
    fetch("./api/screens/", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        loading = false;
        known = data;
        if (data && !window.localStorage.getItem("defaultTimezone")) {
          // piccolo-admin shows and takes times in this zone (UTC until one is chosen).
          window.localStorage.setItem("defaultTimezone", data.zone);
        }
        apply();
      })
      .catch(function () { loading = false; });
  }

  function tableOf(href) {
    var match = /^#\/([a-z0-9_]+)(\/.*)?$/.exec(href || "");
    return match ? match[1] : null;
  }

  function readable(name) {
    return name.split("_").join(" ").toLowerCase();
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  function mark(element, attribute, on) {
    if (on && !element.hasAttribute(attribute)) element.setAttribute(attribute, "");
    if (!on && element.hasAttribute(attribute)) element.removeAttribute(attribute);
  }

  function denies(table, action) {
    var screen = known && known.screens[table];
    return !screen || screen.deny.indexOf(action) >= 0;
  }

  function apply() {
    var root = document.documentElement;
    if (!known) {
      root.removeAttribute("data-bankcrm-deny");
      return;
    }
    var screens = known.screens;
    var longestFirst = Object.keys(screens).sort(function (a, b) { return b.length - a.length; });
    document.querySelectorAll("ul.table_list a[href^='#/']").forEach(function (link) {
      var screen = screens[tableOf(link.getAttribute("href"))];
      if (screen) setText(link.querySelector("span"), screen.title);
    });
    // Headings and pickers name tables by their readable names ("edit customer archive
    // customer", "Select a row from ..."): the screen's title instead.
    document.querySelectorAll("h1").forEach(function (heading) {
      var text = heading.textContent;
      longestFirst.forEach(function (name) {
        var at = text.toLowerCase().indexOf(readable(name));
        if (at >= 0) text = text.slice(0, at) + screens[name].title + text.slice(at + name.length);
      });
      setText(heading, text);
    });
    // Links to another table's rows (a list's references, the icons beside a key picker):
    // adding only where allowed, opening only a table the viewer has a screen for; a
    // reference they may not open is shown as plain text.
    document.querySelectorAll("a[href^='#/']").forEach(function (link) {
      var href = link.getAttribute("href");
      var table = tableOf(href);
      if (!table || link.closest("ul.table_list")) return;
      if (/\/add\/$/.test(href)) {
        mark(link, "data-bankcrm-denied", denies(table, "create"));
      } else if (link.classList.contains("add")) {
        mark(link, "data-bankcrm-denied", !screens[table]);
      } else {
        mark(link, "data-bankcrm-plain", !screens[table]);
      }
    });
    linkRowPages(screens);
    // piccolo-admin writes an empty cell as a programmer's NULL; a clerk reads a dash.
    document.querySelectorAll("td > span > code").forEach(function (code) {
      if (code.textContent === "NULL") {
        code.textContent = "—";
        code.className = "bankcrm-empty";
      }
    });
    var current = tableOf(window.location.hash);
    var screen = current ? screens[current] : null;
    if (screen && screen.deny.length) {
      root.setAttribute("data-bankcrm-deny", screen.deny.join(" "));
    } else {
      root.removeAttribute("data-bankcrm-deny");
    }
  }

  // Each row of a list whose screen names a staff page for a row (the customer's 360°
  // page) links to it, beside piccolo-admin's own link to the row's form.
  function linkRowPages(screens) {
    var current = tableOf(window.location.hash);
    var screen = current ? screens[current] : null;
    if (!screen || !screen.row_page || !/^#\/[a-z0-9_]+\/?(\?.*)?$/.test(window.location.hash)) return;
    var rowLink = new RegExp("^#/" + current + "/(\\d+)/?$");
    document.querySelectorAll("table a[href^='#/" + current + "/']").forEach(function (link) {
      var match = rowLink.exec(link.getAttribute("href"));
      if (!match || link.parentNode.querySelector("a.bankcrm-row-page")) return;
      var page = document.createElement("a");
      page.className = "bankcrm-row-page";
      page.href = screen.row_page.replace("{id}", match[1]);
      page.textContent = screen.row_page_title;
      link.parentNode.appendChild(page);
    });
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      if (!known) load();
      apply();
    });
  }

  // A new page: the viewer may have signed in or switched language meanwhile.
  window.addEventListener("hashchange", load);
  new MutationObserver(schedule).observe(document.documentElement, {
    childList: true,
    subtree: true,
    characterData: true,
  });
  load();
})();
