// Drop from the built stylesheets the Radix Themes component rules that no page can match.
//
// Radix ships components.css whole (≈430 KB unpacked): every rule of every component, used or
// not. Each component's JavaScript names its classes as literals ("rt-Button", "rt-BaseMenuItem"),
// so the classes a page can ever carry are the `rt-PascalCase` strings of the JavaScript the
// pages import statically (the react-router manifest lists it; the lazily loaded full Radix
// namespace, for dynamic components the portal does not use, is left out on purpose). A
// selector that needs a component class absent from that JavaScript can never match: it goes.
//
// Radix's utility and size classes also come once per breakpoint (".sm\:rt-r-gtc-2" inside
// "@media (width>=768px)"), half of the stylesheet, while the pages give a responsive value (an
// object keyed by breakpoint, `rx.breakpoints(...)`) to a handful of props. Such a class is made
// from a breakpoint and value that the JavaScript holds ({ sm: "row" }: "sm:rt-r-fd-row"), or is
// the breakpoint's CSS-variable form ("var(--width-sm)"); a rule needing any other cannot match.
// So a responsive value must be written in the page's code: one that only a state var would give
// at run time is not seen here (no page does that; tests/e2e/test_frontend_weight.py checks the
// billing page's four).
// The trimmed file gets a new content hash (browsers cache assets for good).
//
// usage: node trim_radix_css.mjs <.web directory> <built client directory>
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";

const COMPONENT_CLASS = /\.rt-([A-Z][A-Za-z0-9]*)/g;
const COMPONENT_LITERAL = /rt-[A-Z][A-Za-z0-9]*/g;
const BREAKPOINTS = "xs|sm|md|lg|xl";
// `sm:"row"`, `["sm"] : "row"` (minified or not) in the pages' JavaScript.
const RESPONSIVE_VALUE = new RegExp(`\\b(${BREAKPOINTS})["']?\\s*\\]?\\s*:\\s*["'\`]([^"'\`]*)["'\`]`, "g");
// ".sm\:rt-r-fd-row", ".md\:-rt-r-mx-2" in a selector.
const RESPONSIVE_CLASS = new RegExp(`\\.(${BREAKPOINTS})\\\\:(-?rt-[A-Za-z0-9-]+)`, "g");

// breakpoint -> the values the JavaScript gives at it.
export function responsiveValues(javascript) {
  const values = new Map();
  for (const [, breakpoint, value] of javascript.matchAll(RESPONSIVE_VALUE)) {
    if (!values.has(breakpoint)) values.set(breakpoint, new Set());
    values.get(breakpoint).add(value);
  }
  return values;
}

function canBeMade(breakpoint, className, declarations, responsive) {
  const given = responsive.get(breakpoint);
  if (!given) return false;
  if (declarations.includes(`-${breakpoint})`)) return true;  // the CSS-variable form
  for (const value of given) if (value && className.endsWith(`-${value}`)) return true;
  return false;
}

// The responsive classes a matching element must carry: those outside any parentheses, and
// those inside :where() or :is() with a single alternative, at every level. One inside :not(),
// :has() or among alternatives is not needed (`.rt-Button:where(.sm\:rt-r-size-2)` needs it;
// `.x:not(.sm\:rt-r-p-1)` does not).
function requiredResponsiveClasses(selector) {
  const groups = [];  // [open index, close index, needed] of each parenthesis
  const open = [];
  for (let i = 0; i < selector.length; i += 1) {
    if (selector[i] === "(") open.push(i);
    else if (selector[i] === ")" && open.length) {
      const from = open.pop();
      const name = selector.slice(0, from).match(/:([a-z-]+)$/)?.[1];
      groups.push([from, i, (name === "where" || name === "is")
        && !/,/.test(requiredPart(selector.slice(from + 1, i)))]);
    }
  }
  return [...selector.matchAll(RESPONSIVE_CLASS)].filter((match) => groups.every(
    ([from, to, needed]) => needed || match.index < from || match.index > to));
}

// The selector without the arguments of :where(), :not(), :has()... : those may name classes
// a matching element does not need, so only the classes outside them decide.
export function requiredPart(selector) {
  let depth = 0;
  let out = "";
  for (const char of selector) {
    if (char === "(") depth += 1;
    else if (char === ")") depth -= 1;
    else if (depth === 0) out += char;
  }
  return out;
}

export function canMatch(selector, usedClasses) {
  for (const [, name] of requiredPart(selector).matchAll(COMPONENT_CLASS)) {
    if (!usedClasses.has(`rt-${name}`)) return false;
  }
  return true;
}

export function trimCss(postcss, css, usedClasses, responsive = null) {
  const root = postcss.parse(css);
  root.walkRules((rule) => {
    if (rule.parent?.type === "atrule" && /keyframes$/i.test(rule.parent.name)) return;
    const declarations = responsive ? rule.nodes.map(String).join(";") : "";
    const live = rule.selectors.filter((s) => canMatch(s, usedClasses) && (!responsive
      || requiredResponsiveClasses(s).every(([, bp, name]) => canBeMade(bp, name, declarations,
                                                                      responsive))));
    if (live.length === 0) rule.remove();
    else if (live.length < rule.selectors.length) rule.selectors = live;
  });
  let emptied = true;
  while (emptied) {  // an @media or @layer left empty goes too, then its parent
    emptied = false;
    root.walkAtRules((atRule) => {
      if (atRule.nodes && atRule.nodes.length === 0) {
        atRule.remove();
        emptied = true;
      }
    });
  }
  return root.toString();
}

function staticJavaScript(clientDir) {
  const assets = join(clientDir, "assets");
  const manifestFile = readdirSync(assets).find((f) => /^manifest-.*\.js$/.test(f));
  if (!manifestFile) return null;
  const text = readFileSync(join(assets, manifestFile), "utf8");
  const manifest = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));
  const files = new Set();
  for (const part of [manifest.entry, ...Object.values(manifest.routes)]) {
    for (const url of [part.module, ...(part.imports || [])]) files.add(url);
  }
  return [...files].map((url) => join(clientDir, url.replace(/^\//, "")));
}

function textFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return textFiles(path);
    return /\.(html|js|json|css)$/.test(name) ? [path] : [];
  });
}

function main([webDir, clientDir]) {
  const postcss = createRequire(join(resolve(webDir), "package.json"))("postcss");
  const scripts = staticJavaScript(clientDir);
  if (!scripts) {
    console.error("trim_radix_css: no react-router manifest found; stylesheets left whole");
    return;
  }
  const javascript = scripts.map((f) => readFileSync(f, "utf8"));
  const used = new Set(javascript.flatMap((text) => text.match(COMPONENT_LITERAL) || []));
  const responsive = responsiveValues(javascript.join("\n"));
  const assets = join(clientDir, "assets");
  const renames = [];
  for (const name of readdirSync(assets).filter((f) => f.endsWith(".css"))) {
    const before = readFileSync(join(assets, name), "utf8");
    const after = trimCss(postcss, before, used, responsive);
    if (after === before) continue;
    const hash = createHash("sha256").update(after).digest("base64url").slice(0, 8);
    const renamed = name.replace(/-[A-Za-z0-9_-]{8}\.css$/, `-${hash}.css`);
    writeFileSync(join(assets, name), after);
    if (renamed !== name) {
      renameSync(join(assets, name), join(assets, renamed));
      renames.push([name, renamed]);
    }
    console.log(`trim_radix_css: ${relative(clientDir, join(assets, renamed))} `
                + `${before.length} -> ${after.length} bytes (${used.size} Radix classes in use)`);
  }
  for (const file of textFiles(clientDir)) {
    const text = readFileSync(file, "utf8");
    const replaced = renames.reduce((t, [from, to]) => t.replaceAll(from, to), text);
    if (replaced !== text) writeFileSync(file, replaced);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
