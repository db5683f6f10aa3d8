const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t0 = Date.now(), c0 = cpu();
const d = require("/work/main/kernel/dist/display.js");
const t = d.loadTslab();
const c = t.createConverter({ isJS: false, isBrowser: false });
c.convert("", "1+1");
console.log(process.execArgv.join(" ") || "(none)", "wall", Date.now() - t0, "cpu", Math.round(cpu() - c0));
c.close();
