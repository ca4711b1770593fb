// Charts drawn by uPlot, each with the same figures as a table (readable by
// screen readers and by tests).
import uPlot from "../vendor/uPlot.esm.js";
import { h } from "./ui.js";
import { useEffect, useRef } from "../vendor/preact-hooks.mjs";

const COLOURS = ["#1a7f37", "#cf222e", "#9a6700", "#0969da", "#8250df", "#57606a"];

// x: numbers (seconds for time axes, else indices); series: [{label, values}].
export function Chart({ title, x, series, time = true, bars = false, xLabels, height = 220 }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current || !x.length) return undefined;
    const width = Math.max(box.current.clientWidth || 600, 320);
    // Bars of several series side by side (align -1 / 1 around the tick), not overlapping.
    const barPaths = (i) => uPlot.paths.bars({ size: [series.length > 1 ? 0.4 : 0.6, 60], align: series.length > 1 ? (i % 2 ? 1 : -1) : 0 });
    const pad = time ? 3600 : 1;
    const options = {
      title,
      width,
      height,
      scales: {
        x: { time, range: (_u, min, max) => (min === max ? [min - pad, max + pad] : bars ? [min - pad / 2, max + pad / 2] : [min, max]) },
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
      },
      axes: [
        xLabels ? { values: (_u, ticks) => ticks.map((t) => xLabels[t] ?? ""), incrs: [1], space: 40 } : { space: 90 },
        {},
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          fill: bars ? `${COLOURS[i % COLOURS.length]}55` : undefined,
          width: 2,
          paths: bars ? barPaths(i) : undefined,
          points: { show: !bars, size: 7 },
        })),
      ],
    };
    const plot = new uPlot(options, [x, ...series.map((s) => s.values)], box.current);
    return () => plot.destroy();
  }, [JSON.stringify([title, x, series, xLabels])]);
  const labelOf = (value, i) => (xLabels ? xLabels[i] : time ? new Date(value * 1000).toLocaleString() : String(value));
  return h(
    "figure",
    { class: "chart", "aria-label": title },
    h("div", { ref: box, class: "chart-canvas", "data-chart": title }),
    h(
      "details",
      null,
      h("summary", null, `${title}: figures`),
      h(
        "table",
        null,
        h("caption", null, title),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, xLabels ? "node" : "time"), series.map((s) => h("th", { scope: "col", key: s.label }, s.label)))),
        h(
          "tbody",
          null,
          x.map((value, i) => h("tr", { key: i }, h("th", { scope: "row" }, labelOf(value, i)), series.map((s) => h("td", { key: s.label }, String(s.values[i] ?? "—"))))),
        ),
      ),
    ),
    !x.length && h("p", null, "No data yet."),
  );
}
