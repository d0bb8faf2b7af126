// The dashboard page: fetches /dashboard/api/report and draws it with the vendored Chart.js.
"use strict";

const NO_DATA = "无数据";
const charts = {};

function pct(x) { return x === null || x === undefined ? NO_DATA : (x * 100).toFixed(1) + "%"; }
function hours(s) {
  if (s === null || s === undefined) return NO_DATA;
  if (s < 3600) return (s / 60).toFixed(0) + " 分钟";
  if (s < 48 * 3600) return (s / 3600).toFixed(1) + " 小时";
  return (s / 86400).toFixed(1) + " 天";
}
function rating(t) { return t.rating_avg === null ? NO_DATA : t.rating_avg.toFixed(2) + " 分"; }
function el(tag, text) { const e = document.createElement(tag); e.textContent = text; return e; }

function card(key, value, sub) {
  const c = document.createElement("div");
  c.className = "card";
  c.append(el("div", key), el("div", value), el("div", sub || ""));
  c.children[0].className = "k"; c.children[1].className = "v"; c.children[2].className = "s";
  return c;
}

function fillTable(id, header, rows) {
  const table = document.getElementById(id);
  table.replaceChildren();
  const head = document.createElement("tr");
  header.forEach(h => head.append(el("th", h)));
  table.append(head);
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = el("td", NO_DATA); td.colSpan = header.length; tr.append(td); table.append(tr);
  }
  rows.forEach(r => { const tr = document.createElement("tr"); r.forEach(v => tr.append(el("td", v))); table.append(tr); });
}

function draw(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(document.getElementById(id), config);
}

function render(data) {
  const t = data.total;
  const form = document.getElementById("query");
  form.since.value = data.since;
  form.until.value = data.until;
  document.getElementById("period").textContent =
    data.region.label + "：" + data.since + " 至 " + data.until + (t.has_data ? "" : "（这个时间段还没有数据）");
  const trail = document.getElementById("trail");
  trail.replaceChildren();
  data.trail.forEach((step, i) => {
    const a = el("a", step.name); a.onclick = () => load({ region: step.label });
    trail.append(a); if (i < data.trail.length - 1) trail.append(" › ");
  });
  document.getElementById("regions").replaceChildren(...data.regions.map(n => { const o = document.createElement("option"); o.value = n; return o; }));
  document.getElementById("cards").replaceChildren(
    card("提需求人数", String(t.requesters), "需求 " + t.needs + " 条"),
    card("科技服务获取率", pct(t.acquisition_rate), t.served_requesters + "/" + t.requesters + " 人得到服务"),
    card("专家供给率", pct(t.supply_rate), t.active_experts + "/" + t.experts + " 位专家接过单"),
    card("接单中位用时", hours(t.median_accept_seconds), "已接单 " + t.accepted_needs + " 条"),
    card("解决率", pct(t.resolution_rate), "已解决 " + t.resolved_needs + " 条"),
    card("平均评分", rating(t), t.rating_count + " 次评价"),
    card("未能回答的提问", pct(t.unanswered_rate), t.unanswered + "/" + t.questions + " 个问题"),
    card("未满足需求", String(t.unmet_needs), "无人接单或已过期"),
    card("企业科技服务获取率", pct(t.enterprise_acquisition_rate), t.enterprise_served + "/" + t.enterprise_requesters + " 家企业得到服务"),
    card("个人科技服务获取率", pct(t.individual_acquisition_rate), t.individual_served + "/" + t.individual_requesters + " 人得到服务"),
    card("科技成果", String(t.achievements), "登记 " + t.achievements + " 项，对接完成 " + t.dockings_done + " 次"),
  );
  const kids = data.children;
  const names = kids.map(c => c.region.name);
  const drill = (evt, els) => { if (els.length) load({ region: kids[els[0].index].region.province + kids[els[0].index].region.city + kids[els[0].index].region.county }); };
  draw("chart-rates", {
    type: "bar",
    data: { labels: names, datasets: [
      { label: "科技服务获取率", data: kids.map(c => c.acquisition_rate === null ? null : +(c.acquisition_rate * 100).toFixed(1)), backgroundColor: "#12588c" },
      { label: "专家供给率", data: kids.map(c => c.supply_rate === null ? null : +(c.supply_rate * 100).toFixed(1)), backgroundColor: "#2e9e6b" },
    ] },
    options: { maintainAspectRatio: false, animation: false, onClick: drill, scales: { y: { min: 0, max: 100 } } },
  });
  draw("chart-needs", {
    type: "bar",
    data: { labels: names, datasets: [
      { label: "已接单需求", data: kids.map(c => c.accepted_needs), backgroundColor: "#12588c", stack: "n" },
      { label: "未满足需求", data: kids.map(c => c.unmet_needs), backgroundColor: "#d9822b", stack: "n" },
      { label: "专家", data: kids.map(c => c.experts), backgroundColor: "#2e9e6b", stack: "e" },
    ] },
    options: { maintainAspectRatio: false, animation: false, onClick: drill },
  });
  draw("chart-weekly", {
    type: "line",
    data: { labels: data.weekly.map(w => w.start), datasets: [
      { label: "新需求", data: data.weekly.map(w => w.needs), borderColor: "#12588c" },
      { label: "已接单", data: data.weekly.map(w => w.accepted), borderColor: "#2e9e6b" },
      { label: "科普提问", data: data.weekly.map(w => w.questions), borderColor: "#d9822b" },
    ] },
    options: { maintainAspectRatio: false, animation: false },
  });
  fillTable("unmet", ["类别 / 作物", "未满足需求"],
    [...data.unmet_categories, ...data.unmet_crops].map(c => [c.label, String(c.count)]));
  fillTable("gaps", ["类型", "问题 / 文章", "次数", "最近一次"],
    data.gaps.map(g => [g.kind_label,
      g.variants.length ? g.text + "（也有人问：" + g.variants.join("；") + "）" : g.text,
      String(g.count), g.last_at.slice(0, 10)]));
  fillTable("cases", ["案例", "状态", "问题", "专家的办法", "分享于"],  // issue 19
    (data.cases || []).map(c => ["#" + c.id, c.status_label, c.problem, c.note, c.created_at.slice(0, 10)]));
  fillTable("children", ["地区", "提需求人数", "需求", "获取率", "企业获取率", "个人获取率", "专家", "供给率", "接单中位用时", "解决率", "平均评分", "成果", "对接完成"],
    kids.map(c => [c.region.name, String(c.requesters), String(c.needs), pct(c.acquisition_rate),
                   pct(c.enterprise_acquisition_rate), pct(c.individual_acquisition_rate), String(c.experts),
                   pct(c.supply_rate), hours(c.median_accept_seconds), pct(c.resolution_rate), rating(c),
                   String(c.achievements), String(c.dockings_done)]));
  document.body.dataset.loaded = data.region.label;
}

async function load(params) {
  const form = document.getElementById("query");
  if (params.region !== undefined) form.region.value = params.region;
  const q = new URLSearchParams();
  ["region", "since", "until"].forEach(k => { if (form[k].value) q.set(k, form[k].value); });
  const error = document.getElementById("error");
  error.textContent = "";
  const resp = await fetch("/dashboard/api/report?" + q.toString(), { credentials: "same-origin" });
  const data = await resp.json().catch(() => ({ error: "服务器出错了（" + resp.status + "）" }));
  if (!resp.ok) {
    error.textContent = data.error + (data.suggestions && data.suggestions.length ? "。您是不是想查：" + data.suggestions.join("、") : "");
    return;
  }
  render(data);
}

document.getElementById("query").addEventListener("submit", evt => { evt.preventDefault(); load({}); });
load({});
