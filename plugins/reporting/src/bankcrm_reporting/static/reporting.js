// The KPI dashboard (/app/reporting/): filters, KPI cards, the breakdown by sub-branch
// (click a bar to drill down) and the trend against the previous period, drawn with the
// bundled ECharts. Everything comes from /api/v1/reporting/dashboard under the viewer's
// session, so the page shows what the viewer's scope allows and nothing else.
"use strict";

(function () {
  const root = document.getElementById("reporting-dashboard");
  if (!root) return;
  const en = root.dataset.lang === "en";
  const t = (zh, english) => (en ? english : zh);
  const state = {
    branch: root.dataset.branch || "",
    metric: root.dataset.metric || "",
    days: root.dataset.days || "30",
  };
  const charts = {};
  const $ = (role) => root.querySelector(`[data-role="${role}"]`);

  function chart(name) {
    if (!charts[name]) {
      charts[name] = window.echarts.init(root.querySelector(`[data-chart="${name}"]`), null, {
        renderer: "canvas",
      });
      window.addEventListener("resize", () => charts[name].resize());
    }
    return charts[name];
  }

  function number(value, unit) {
    if (value === null || value === undefined) return "—";
    const digits = unit === "%" ? 1 : Number.isInteger(value) ? 0 : 2;
    const text = value.toLocaleString(en ? "en-US" : "zh-CN", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    return unit === "%" ? `${text}%` : text;
  }

  function unitLabel(unit) {
    const labels = { CNY: t("元", "CNY"), count: t("个", ""), "%": "%" };
    return unit in labels ? labels[unit] : unit;
  }

  function kpiTitle(kpi) {
    return en ? kpi.title_en : kpi.title;
  }

  function branchName(node) {
    return en ? node.name_en || node.name : node.name;
  }

  function option(select, value, text, chosen) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = text;
    element.selected = String(value) === String(chosen);
    select.appendChild(element);
  }

  function fillFilters(data) {
    const branch = $("branch");
    branch.replaceChildren();
    const top = Math.min(...data.branches.map((b) => b.level));
    for (const node of data.branches) {
      option(branch, node.id, "\u3000".repeat(node.level - top) + branchName(node), data.node.id);
    }
    const metric = $("metric");
    metric.replaceChildren();
    for (const kpi of data.kpis) option(metric, kpi.name, kpiTitle(kpi), data.metric);
  }

  function fillTrail(data) {
    const trail = $("trail");
    trail.replaceChildren();
    data.trail.forEach((node, index) => {
      const last = index === data.trail.length - 1;
      const element = document.createElement(last ? "span" : "a");
      element.textContent = branchName(node);
      if (!last) {
        element.href = "#";
        element.addEventListener("click", (event) => {
          event.preventDefault();
          go({ branch: String(node.id) });
        });
      }
      trail.appendChild(element);
    });
  }

  function fillCards(data) {
    const cards = $("cards");
    cards.replaceChildren();
    const kpis = Object.fromEntries(data.kpis.map((k) => [k.name, k]));
    for (const figure of data.figures) {
      const kpi = kpis[figure.metric];
      const card = document.createElement("button");
      card.type = "button";
      card.className = "kpi";
      card.dataset.metric = figure.metric;
      card.setAttribute("aria-pressed", String(figure.metric === data.metric));
      card.title = `${kpi.description}\n${t("口径负责", "Owner")}: ${kpi.owner}`;
      const name = document.createElement("div");
      name.className = "name";
      name.textContent = kpiTitle(kpi);
      const value = document.createElement("div");
      value.className = "value";
      value.textContent = `${number(figure.value, kpi.unit)} ${kpi.unit === "%" ? "" : unitLabel(kpi.unit)}`;
      card.append(name, value);
      if (figure.change !== null) {
        const change = document.createElement("div");
        const better = kpi.direction === "up" ? figure.change > 0 : kpi.direction === "down" ? figure.change < 0 : null;
        change.className = `change ${better === null || figure.change === 0 ? "" : better ? "good" : "bad"}`;
        const sign = figure.change > 0 ? "▲ +" : figure.change < 0 ? "▼ " : "";
        const pct = figure.previous ? ` (${((100 * figure.change) / Math.abs(figure.previous)).toFixed(1)}%)` : "";
        change.textContent = `${sign}${number(figure.change, kpi.unit)}${pct} ${t(`较${data.days}天前`, `vs ${data.days} days ago`)}`;
        card.appendChild(change);
      }
      card.addEventListener("click", () => go({ metric: figure.metric }));
      cards.appendChild(card);
    }
  }

  function drawBreakdown(data, kpi) {
    const rows = data.breakdown;
    const table = $("breakdown-table");
    table.replaceChildren();
    for (const bar of rows) {
      const tr = table.insertRow();
      tr.dataset.branch = bar.branch.id;
      tr.insertCell().textContent = branchName(bar.branch);
      const cell = tr.insertCell();
      cell.className = "number";
      cell.textContent = number(bar.value, kpi.unit);
    }
    const box = root.querySelector('[data-chart="breakdown"]');
    box.setAttribute("aria-label", `${kpiTitle(kpi)} — ${t("下级机构对比", "by sub-branch")}`);
    if (!rows.length) {
      // A leaf branch: show the branch itself as one bar.
      rows.push({ branch: data.node, value: (data.figures.find((f) => f.metric === kpi.name) || {}).value });
    }
    chart("breakdown").setOption(
      {
        tooltip: { trigger: "axis", valueFormatter: (v) => `${number(v, kpi.unit)} ${unitLabel(kpi.unit)}` },
        grid: { left: 80, right: 20, top: 20, bottom: 40 },
        xAxis: { type: "category", data: rows.map((r) => branchName(r.branch)) },
        yAxis: { type: "value" },
        series: [
          {
            type: "bar",
            name: kpiTitle(kpi),
            data: rows.map((r) => ({ value: r.value, branchId: r.branch.id, drill: r.branch.has_children || r.branch.id !== data.node.id })),
            itemStyle: { color: "#1565c0" },
          },
        ],
      },
      true,
    );
    chart("breakdown").off("click");
    chart("breakdown").on("click", (params) => {
      if (params.data && params.data.branchId && params.data.branchId !== data.node.id) {
        go({ branch: String(params.data.branchId) });
      }
    });
  }

  function drawTrend(data, kpi) {
    const note = $("trend-note");
    if (!data.history) {
      note.textContent = t("您的角色不查看机构历史，仅显示当前数值。", "Your role sees current figures only, not branch history.");
    } else if (!data.trend.length) {
      note.textContent = t("尚无日快照：每日任务运行后显示趋势。", "No daily snapshots yet: the trend appears after the daily job runs.");
    } else {
      note.textContent = t(`近${data.days}天与再前${data.days}天对比`, `Last ${data.days} days against the ${data.days} days before`);
    }
    const days = Array.from(new Set([...data.trend, ...data.previous_trend].map((p) => p.day))).sort();
    const at = (points) => {
      const map = Object.fromEntries(points.map((p) => [p.day, p.value]));
      return days.map((d) => (d in map ? map[d] : null));
    };
    chart("trend").setOption(
      {
        tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : `${number(v, kpi.unit)} ${unitLabel(kpi.unit)}`) },
        legend: { top: 0, data: [t("本期", "This period"), t("上期", "Previous period")] },
        grid: { left: 80, right: 20, top: 40, bottom: 40 },
        xAxis: { type: "category", data: days },
        yAxis: { type: "value", scale: true },
        series: [
          { type: "line", name: t("本期", "This period"), data: at(data.trend), showSymbol: false, connectNulls: true, color: "#1565c0" },
          { type: "line", name: t("上期", "Previous period"), data: at(data.previous_trend), showSymbol: false, connectNulls: true, lineStyle: { type: "dashed" }, color: "#9e9e9e" },
        ],
      },
      true,
    );
  }

  function url() {
    const query = new URLSearchParams({ days: state.days });
    if (state.branch) query.set("branch_id", state.branch);
    if (state.metric) query.set("metric", state.metric);
    return query;
  }

  async function load() {
    const error = $("error");
    error.hidden = true;
    root.dataset.state = "loading";
    const response = await fetch(`/api/v1/reporting/dashboard?${url()}`, { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) {
      error.textContent = data.detail || response.statusText;
      error.hidden = false;
      root.dataset.state = "error";
      return;
    }
    state.branch = String(data.node.id);
    state.metric = data.metric;
    fillFilters(data);
    fillTrail(data);
    fillCards(data);
    const kpi = data.kpis.find((k) => k.name === data.metric);
    if (kpi) {
      $("breakdown-title").textContent = `${kpiTitle(kpi)} · ${t("下级机构对比", "by sub-branch")}`;
      drawBreakdown(data, kpi);
      drawTrend(data, kpi);
    }
    root.dataset.state = "ready";
  }

  function go(change) {
    Object.assign(state, change);
    const query = url();
    history.pushState(null, "", `${location.pathname}?${query}`);
    load();
  }

  root.querySelector('[data-role="filters"]').addEventListener("change", (event) => {
    const name = event.target.name;
    if (name === "branch_id") go({ branch: event.target.value });
    if (name === "metric") go({ metric: event.target.value });
    if (name === "days") go({ days: event.target.value });
  });
  window.addEventListener("popstate", () => {
    const query = new URLSearchParams(location.search);
    state.branch = query.get("branch_id") || "";
    state.metric = query.get("metric") || "";
    state.days = query.get("days") || "30";
    load();
  });
  load();
})();
