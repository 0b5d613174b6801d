// The matrix, its filters and paging, the drill-down and the blockers' user lists, drawn from
// the JSON document above. Text from the district is set with textContent, never as HTML.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const decisions = D.summary.decisions.map((d) => d.decision);
  const reasons = D.summary.reasons;
  const PAGE = 100;
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  const state = { page: 0, sort: null, desc: false, rows: [] };

  // Filters' choices.
  const addOptions = (select, items) => {
    for (const [value, label] of items) {
      const o = el("option", label);
      o.value = value;
      select.appendChild(o);
    }
  };
  addOptions($("f-role"), D.roles.map((r, i) => [String(i), r]));
  addOptions($("f-decision"), decisions.map((d, i) => [String(i), d]));
  addOptions(
    $("f-school"),
    D.groups.map((g, i) => [String(i), g.name]).filter((_, i) => D.groups[i].kind === "school")
  );
  addOptions(
    $("f-reason"),
    reasons.map((r, i) => [String(i), `${r.code} (${r.decision})`]).filter((_, i) => reasons[i].kind === "blocker")
  );
  const teacher = D.roles.indexOf("teacher");
  if (teacher >= 0) $("f-role").value = String(teacher);

  // A user's cell for decision d: [outcome, allowed, denied].
  const cell = (u, d) => [u.c[3 * d], u.c[3 * d + 1], u.c[3 * d + 2]];
  // Every blocker of any of the user's denied answers, not only the answers the cells show.
  const hasReason = (u, r) => u.b.includes(r);
  const verdictOk = (u, d, want) => {
    const denied = (i) => u.c[3 * i + 2] > 0;
    const asked = (i) => u.c[3 * i + 1] + u.c[3 * i + 2] > 0;
    const all = d === "" ? decisions.map((_, i) => i) : [Number(d)];
    if (want === "denied") return all.some(denied);
    if (want === "allowed") return all.some(asked) && !all.some(denied);
    return d === "" || asked(Number(d));
  };

  function filtered() {
    const q = $("f-search").value.trim().toLowerCase();
    const role = $("f-role").value;
    const school = $("f-school").value;
    const d = $("f-decision").value;
    const want = $("f-verdict").value;
    const reason = $("f-reason").value;
    const by = $("f-group").value;
    const rows = [];
    D.users.forEach((u, i) => {
      if (q && !u.u.toLowerCase().includes(q) && !u.n.toLowerCase().includes(q)) return;
      if (role !== "" && !u.r.includes(Number(role))) return;
      if (school !== "" && !u.g.includes(Number(school))) return;
      if (!verdictOk(u, d, want)) return;
      if (reason !== "" && !hasReason(u, Number(reason))) return;
      if (by === "") rows.push([i, ""]);
      else if (by === "role") {
        const names = u.r.map((r) => D.roles[r]);
        (names.length ? names : ["(no role)"]).forEach((g) => rows.push([i, g]));
      } else {
        const names = u.g.filter((g) => D.groups[g].kind === by).map((g) => D.groups[g].name);
        (names.length ? names : [`(in no ${by})`]).forEach((g) => rows.push([i, g]));
      }
    });
    const key = (i) => {
      const u = D.users[i];
      if (state.sort === null || state.sort === "u") return u.u;
      if (state.sort === "n") return u.n;
      if (state.sort === "r") return u.r.map((r) => D.roles[r]).join(",");
      const [, a, n] = cell(u, state.sort);
      return a + n === 0 ? 3 : n === 0 ? 2 : a === 0 ? 0 : 1; // denied first
    };
    const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
    // Users in no group of the kind come last.
    const none = (g) => (g.startsWith("(") ? 1 : 0);
    rows.sort((x, y) => none(x[1]) - none(y[1]) || cmp(x[1], y[1]) || (state.desc ? -1 : 1) * cmp(key(x[0]), key(y[0])) || x[0] - y[0]);
    return rows;
  }

  function header() {
    const tr = el("tr");
    const th = (label, sort, cls) => {
      const h = el("th", label + (state.sort === sort ? (state.desc ? " ▾" : " ▴") : ""), cls);
      h.title = "sort";
      h.addEventListener("click", () => {
        state.desc = state.sort === sort ? !state.desc : false;
        state.sort = sort;
        update(false);
      });
      tr.appendChild(h);
    };
    th("User", "u");
    th("Name", "n");
    th("Role", "r");
    decisions.forEach((d, i) => th(d, i, "dec"));
    const head = document.querySelector("#matrix thead");
    head.replaceChildren(tr);
  }

  function render() {
    const body = document.querySelector("#matrix tbody");
    const rows = state.rows;
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * PAGE;
    const shown = rows.slice(start, start + PAGE);
    const out = [];
    let group = null;
    for (const [i, g] of shown) {
      if (g !== "" && g !== group) {
        group = g;
        const tr = el("tr", null, "group");
        const td = el("td", g);
        td.colSpan = 3 + decisions.length;
        tr.appendChild(td);
        out.push(tr);
      }
      const u = D.users[i];
      const tr = el("tr");
      tr.dataset.user = String(i);
      tr.appendChild(el("td", u.u));
      tr.appendChild(el("td", u.n));
      tr.appendChild(el("td", u.r.map((r) => D.roles[r]).join(", ")));
      decisions.forEach((_, d) => {
        const [o, a, n] = cell(u, d);
        let text = "–", cls = "c N";
        if (o >= 0 && n === 0) (text = "✓"), (cls = "c A");
        else if (o >= 0 && a === 0) (text = "✗"), (cls = "c D");
        else if (o >= 0) (text = `${a}/${a + n}`), (cls = "c M");
        const td = el("td", text, cls);
        if (o >= 0) td.title = `${decisions[d]}: ${D.outcomes[o].code}`;
        tr.appendChild(td);
      });
      tr.addEventListener("click", () => detail(i));
      out.push(tr);
    }
    body.replaceChildren(...out);
    $("matrix-count").textContent =
      `${rows.length} row${rows.length === 1 ? "" : "s"}` + (rows.length > PAGE ? `, ${PAGE} per page` : "");
    $("page").textContent = `page ${state.page + 1} of ${pages}`;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
    document.body.dataset.rows = String(rows.length);
  }

  function update(reset) {
    if (reset) state.page = 0;
    state.rows = filtered();
    header();
    render();
  }

  function detail(i) {
    const u = D.users[i];
    const box = $("detail");
    const close = el("button", "close ✕", "close");
    close.type = "button";
    close.addEventListener("click", () => (box.hidden = true));
    const parts = [close, el("h3", u.n), el("p", `${u.u} · ${u.r.map((r) => D.roles[r]).join(", ") || "no role"}`)];
    const groups = u.g.map((g) => D.groups[g].name);
    if (groups.length) parts.push(el("p", `In: ${groups.slice(0, 20).join(", ")}${groups.length > 20 ? " …" : ""}`));
    decisions.forEach((name, d) => {
      const [o, a, n] = cell(u, d);
      if (o < 0) return;
      const out = D.outcomes[o];
      const verdict = n === 0 ? "allowed" : a === 0 ? "denied" : `allowed for ${a} of ${a + n} guardians`;
      parts.push(el("h4", `${name}: ${verdict}`));
      if (n === 0) return;
      const list = el("ul");
      for (const r of out.blockers) {
        const li = el("li");
        li.appendChild(el("code", reasons[r].code));
        li.appendChild(document.createTextNode(` ${reasons[r].message}`));
        const fix = D.fixes[r];
        if (fix && fix.steps.length === 0) {
          li.appendChild(el("div", `Nothing an admin changes allows it: ${fix.unfixable.join("; ")}`, "fix none"));
        } else if (fix) {
          const f = el("div", null, "fix");
          f.appendChild(el("b", `Smallest fix (verified for ${fix.user}):`));
          const ol = el("ol");
          fix.steps.forEach(([step, where]) => {
            const li2 = el("li");
            li2.appendChild(el("code", step));
            li2.appendChild(el("br"));
            li2.appendChild(el("small", where));
            ol.appendChild(li2);
          });
          f.appendChild(ol);
          li.appendChild(f);
        }
        list.appendChild(li);
      }
      parts.push(list);
      const why = D.explanations[`${u.u} ${name}`];
      if (why) {
        const d2 = el("details");
        d2.appendChild(el("summary", "the whole explanation"));
        d2.appendChild(el("pre", why));
        parts.push(d2);
      }
      // A guardian decision is asked per guardian; their ids are contacts, so the page names none.
      const g = D.summary.decisions[d].per_guardian ? " --guardian GUARDIAN_ID" : "";
      parts.push(el("pre", `tenet explain --user ${u.u} --decision ${name}${g}\ntenet fix --user ${u.u} --decision ${name}${g}`));
    });
    box.replaceChildren(...parts);
    box.hidden = false;
  }

  // The users a blocker stops, listed under it on demand.
  document.querySelectorAll("button.who").forEach((b) =>
    b.addEventListener("click", () => {
      const r = Number(b.dataset.reason);
      const hit = D.users.filter((u) => hasReason(u, r)).map((u) => `${u.n} (${u.u})`);
      b.nextElementSibling.textContent = hit.slice(0, 200).join(", ") + (hit.length > 200 ? ` and ${hit.length - 200} more` : "");
    })
  );

  for (const id of ["f-search", "f-role", "f-school", "f-decision", "f-verdict", "f-reason", "f-group"]) {
    $(id).addEventListener("input", () => update(true));
    if (id !== "f-search") $(id).addEventListener("change", () => update(true));
  }
  $("prev").addEventListener("click", () => { state.page--; render(); });
  $("next").addEventListener("click", () => { state.page++; render(); });
  update(true);
  document.body.dataset.ready = "true";
  // Milliseconds from navigation to a drawn page: what `scripts/bench-report.sh` reads.
  document.body.dataset.readyMs = String(Math.round(performance.now()));
})();
