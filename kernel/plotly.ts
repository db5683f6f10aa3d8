/**
 * The plotly `text/html` fallback the kernel adds to figures, for front ends without a plotly
 * renderer (JupyterLab without the plotly extension, classic Notebook). It draws with the page's
 * plotly.js if it has one; otherwise it loads plotly.js from the Jupyter server itself
 * (`<baseUrl>files/...node_modules/plotly.js-dist-min/plotly.min.js`, never a CDN; through
 * requirejs where the page has it, else a script tag; once per page), and if that fails it says
 * what the figure is. The library's figures carry `application/vnd.plotly.v1+json` only.
 */
import { dirname, posix, relative, sep } from "path";
// The library's display module alone (not its index: the command line starts without the model).
import { PLOTLY_MIME, escapeHtml, fitToColumn, plotlyText } from "execmem-lab/dist/display";
import type { MimeBundle, PlotlyFigure } from "execmem-lab/dist/display";

/**
 * Where a Jupyter server may serve plotly.js from (paths below its root, for its /files/ handler):
 * beside the notebook (from the kernel's working directory and JPY_SESSION_NAME, the notebook's
 * path that jupyter_server gives the kernel) and at the root of a server started in the checkout.
 */
export function plotlyScriptCandidates(
  env: { [k: string]: string | undefined } = process.env,
  cwd: string = process.cwd(),
): string[] {
  let script: string;
  try {
    script = require.resolve("plotly.js-dist-min/plotly.min.js", { paths: [cwd, __dirname] });
  } catch {
    return [];
  }
  const toPosix = (p: string) => p.split(sep).join("/");
  const out: string[] = [];
  const session = env.JPY_SESSION_NAME;
  if (session && !session.startsWith("/") && !/^[a-z]+:/i.test(session)) {
    const p = posix.normalize(posix.join(posix.dirname(session), toPosix(relative(cwd, script))));
    if (!p.startsWith("..")) out.push(p);
  }
  // A server started at the workspace root (the folder holding node_modules/).
  const root = dirname(dirname(dirname(script)));
  out.push(toPosix(relative(root, script)));
  return [...new Set(out)];
}

let plotCounter = 0;

/** The `text/html` fallback of a plotly figure (see the module comment). */
export function plotlyHtml(figure: PlotlyFigure): string {
  const fig = { data: figure.data, layout: figure.layout ?? {}, config: figure.config ?? {} };
  const fitted = fitToColumn(fig);
  const plain = plotlyText(fig);
  const id = `execmem-lab-plot-${process.pid}-${Date.now().toString(36)}-${plotCounter++}`;
  const json = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");
  return (
    `<div id="${id}" class="execmem-lab-plotly" style="${fitted.maxWidth ? `max-width:${fitted.maxWidth}px` : ""}">` +
    `<div class="execmem-lab-plotly-fallback" ` +
    `style="font-family:sans-serif;font-size:13px;color:#555">${escapeHtml(plain)} ` +
    `(interactive chart: open this notebook's page in the execmem-lab report, or use a front end ` +
    `that renders application/vnd.plotly.v1+json)</div></div>` +
    `<script>(function(){var fig=${json(fitted.figure)};var el=document.getElementById(${JSON.stringify(id)});` +
    `var paths=${json(plotlyScriptCandidates())};` +
    `function draw(P){el.innerHTML="";P.newPlot(el,fig.data,fig.layout,fig.config);}` +
    `function ok(P){return P&&typeof P.newPlot==="function"?P:null;}` +
    `if(ok(window.Plotly)){return draw(window.Plotly);}` +
    // One load per page, shared by its figures (concurrent loads race and leave figures blank).
    `var w=window;if(!w.__execmemLabPlotly){w.__execmemLabPlotly=new Promise(function(resolve,reject){` +
    `var base="/";try{var c=document.getElementById("jupyter-config-data");` +
    `if(c){base=JSON.parse(c.textContent).baseUrl||base;}` +
    `else if(document.body.getAttribute("data-base-url")){base=document.body.getAttribute("data-base-url");}}catch(e){}` +
    `if(base.slice(-1)!=="/"){base+="/";}` +
    // requirejs (classic Notebook, nbconvert's templates): load through it, since a plain
    // <script> of an AMD-aware build would call define() anonymously; plotly.js 3 does not call
    // define() at all, so the module comes back undefined and window.Plotly is what it set.
    `var amd=typeof w.define==="function"&&w.define.amd&&typeof w.require==="function"&&typeof w.require.config==="function";` +
    `(function next(i){if(ok(w.Plotly)){return resolve(w.Plotly);}if(i>=paths.length){return reject(new Error("plotly.js not found"));}` +
    `var url=base+"files/"+paths[i];` +
    `if(amd){var name="execmem-lab-plotly-"+i;var cfg={paths:{}};cfg.paths[name]=url.replace(/\\.js$/,"");w.require.config(cfg);` +
    `w.require([name],function(P){var p=ok(P)||ok(w.Plotly);if(p){resolve(p);}else{next(i+1);}},` +
    `function(){if(w.requirejs&&w.requirejs.undef){w.requirejs.undef(name);}next(i+1);});return;}` +
    `var s=document.createElement("script");s.src=url;` +
    `s.onload=function(){next(i+1);};` +
    `s.onerror=function(){s.remove();next(i+1);};document.head.appendChild(s);})(0);});` +
    `w.__execmemLabPlotly.catch(function(){w.__execmemLabPlotly=null;});}` +
    `w.__execmemLabPlotly.then(draw,function(){});})();</script>`
  );
}

/**
 * `bundle` with the `text/html` fallback added after its plotly figure, when it has one and no
 * HTML of its own; other bundles as they are.
 */
export function withPlotlyFallback(bundle: MimeBundle): MimeBundle {
  const fig = bundle[PLOTLY_MIME] as PlotlyFigure | undefined;
  if (bundle["text/html"] !== undefined || !fig || !Array.isArray(fig.data)) return bundle;
  const { [PLOTLY_MIME]: plotly, ...rest } = bundle;
  return { [PLOTLY_MIME]: plotly, "text/html": plotlyHtml(fig), ...rest };
}
