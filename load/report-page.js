/* global Chart */
// Draws the charts a load report describes in #report-data, with Chart.js inlined before this script.
// The report (report.ts) shapes every series; this only turns each description into a chart.
(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.font.family = 'system-ui, sans-serif';
  Chart.defaults.color = '#334155';
  Chart.defaults.animation = false;

  const valuesOf = (c) => c.series.flatMap((s) => (s.points ? s.points.map((p) => p[1]) : s.values)).filter((v) => v != null);
  // Charts of one group are drawn to one scale, so their heights compare.
  const groupMax = {};
  for (const c of data.charts) if (c.group) groupMax[c.group] = Math.max(groupMax[c.group] ?? 0, ...valuesOf(c));

  /** The dashed line where the load stops. */
  const loadEnd = {
    id: 'loadEnd',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x.getPixelForValue(data.loadEndS);
      const { top, bottom, right } = chart.chartArea;
      if (!(x <= right)) return;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = '#94a3b8';
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.fillStyle = '#64748b';
      ctx.font = '11px system-ui, sans-serif';
      // Above the plot, beside the line, on whichever side has room.
      const roomRight = x < right - 60;
      ctx.textAlign = roomRight ? 'left' : 'right';
      ctx.fillText('load stops', roomRight ? x + 4 : x - 4, top - 4);
      ctx.restore();
    },
  };

  const axisTitle = (text) => ({ display: true, text });
  // Dense lines go without markers, but a value between two gaps keeps its dot, or it would not show at all.
  const pointRadius = (ctx) => {
    const d = ctx.dataset.data;
    const i = ctx.dataIndex;
    const alone = d[i - 1]?.y == null && d[i + 1]?.y == null;
    return d.length <= 40 || alone ? 2.5 : 0;
  };
  const valueAxis = (c) => ({ beginAtZero: true, suggestedMax: c.group ? groupMax[c.group] : undefined, title: axisTitle(c.unit) });

  function timeChart(c) {
    return {
      type: 'line',
      data: {
        datasets: c.series.map((s) => ({
          label: s.label + (s.points.every((p) => p[1] == null) ? ' (n too small in every window)' : ''),
          data: s.points.map(([x, y]) => ({ x, y })),
          borderColor: s.color,
          backgroundColor: s.color,
          borderDash: s.dash ?? [],
          borderWidth: 2,
          pointRadius: s.dash ? 0 : pointRadius,
          spanGaps: false,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        layout: { padding: { top: 14 } },
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: { x: { type: 'linear', min: 0, max: Math.ceil(data.endS), title: axisTitle('seconds into the run') }, y: valueAxis(c) },
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true, pointStyle: 'line' } } },
      },
      plugins: [loadEnd],
    };
  }

  function barChart(c) {
    return {
      type: 'bar',
      data: { labels: c.categories, datasets: c.series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color })) },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: valueAxis(c), y: { ticks: { autoSkip: false } } },
        plugins: { legend: { position: 'bottom' } },
      },
    };
  }

  for (const c of data.charts) new Chart(document.getElementById(c.id), c.kind === 'time' ? timeChart(c) : barChart(c));
  document.body.dataset.charts = 'drawn';
})();
