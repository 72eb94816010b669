// The /docs page: renders openapi.json, fetched from the same origin. It builds the
// page with DOM calls and `textContent` only (it never parses markup), so nothing in the
// document can inject markup. Served inline, allowed by its SHA-256 in the page's
// Content-Security-Policy (APIDocsPage.swift).
"use strict";
(function () {
  var root = document.getElementById("app");
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  // Descriptions: plain text with `code` and **bold**, built as DOM nodes.
  function prose(text, cls) {
    var box = el("div", cls || "prose");
    String(text || "").split(/\n\n+/).forEach(function (para) {
      var p = el("p");
      para.split(/(`[^`]*`|\*\*[^*]+\*\*)/).forEach(function (part) {
        if (/^`[^`]*`$/.test(part)) p.appendChild(el("code", null, part.slice(1, -1)));
        else if (/^\*\*[^*]+\*\*$/.test(part)) p.appendChild(el("strong", null, part.slice(2, -2)));
        else if (part) p.appendChild(document.createTextNode(part));
      });
      box.appendChild(p);
    });
    return box;
  }
  var spec = null;
  // A reference's own `description` or `summary` (OpenAPI 3.1) wins over its target's.
  function resolve(value) {
    var seen = 0, own = {};
    while (value && typeof value.$ref === "string" && seen++ < 32) {
      ["description", "summary"].forEach(function (key) {
        if (value[key] !== undefined && own[key] === undefined) own[key] = value[key];
      });
      var target = spec;
      value.$ref.replace(/^#\//, "").split("/").forEach(function (key) {
        key = key.replace(/~1/g, "/").replace(/~0/g, "~");
        target = target ? target[key] : undefined;
      });
      value = target;
    }
    value = value || {};
    return Object.keys(own).length ? Object.assign({}, value, own) : value;
  }
  function refName(value) {
    return value && typeof value.$ref === "string" ? value.$ref.split("/").pop() : null;
  }
  function typeText(schema) {
    if (schema.const !== undefined) return "const " + JSON.stringify(schema.const);
    var t = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type || "");
    if (schema.format) t += " (" + schema.format + ")";
    return t || (schema.oneOf ? "one of" : schema.anyOf ? "any of" : schema.allOf ? "all of" : "any");
  }
  function facts(schema) {
    var out = [];
    if (schema.enum) out.push("one of " + schema.enum.map(function (v) { return JSON.stringify(v); }).join(", "));
    [["minLength", "min length"], ["maxLength", "max length"], ["minimum", "≥"], ["maximum", "≤"],
     ["minItems", "min items"], ["maxItems", "max items"], ["pattern", "pattern"], ["default", "default"]].forEach(function (f) {
      if (schema[f[0]] !== undefined) out.push(f[1] + " " + (f[0] === "default" ? JSON.stringify(schema[f[0]]) : schema[f[0]]));
    });
    if (schema.uniqueItems) out.push("distinct items");
    if (schema.additionalProperties === false) out.push("no other fields");
    return out.join(" · ");
  }
  // A schema as a nested list; `depth` and `trail` stop runaway or cyclic $refs.
  function schemaView(raw, depth, trail) {
    trail = trail || [];
    var name = refName(raw);
    var schema = resolve(raw);
    var box = el("div", "schema");
    var head = add(el("div", "schema-head"), name ? el("span", "ref", name) : null, el("span", "type", typeText(schema)));
    var f = facts(schema);
    if (f) head.appendChild(el("span", "facts", f));
    box.appendChild(head);
    if (schema.description && depth > 0) box.appendChild(prose(schema.description, "prose small"));
    if (depth > 8 || (name && trail.indexOf(name) >= 0)) return box;
    var next = name ? trail.concat([name]) : trail;
    if (schema.properties) {
      var list = el("ul", "props");
      var required = schema.required || [];
      Object.keys(schema.properties).forEach(function (key) {
        var item = el("li");
        add(item, el("code", "prop", key), required.indexOf(key) >= 0 ? el("span", "req", "required") : null);
        item.appendChild(schemaView(schema.properties[key], depth + 1, next));
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    if (schema.items) add(box, el("div", "label", "items"), schemaView(schema.items, depth + 1, next));
    ["oneOf", "anyOf", "allOf"].forEach(function (k) {
      if (!schema[k]) return;
      var alts = el("ul", "alts");
      schema[k].forEach(function (alt) { alts.appendChild(add(el("li"), schemaView(alt, depth + 1, next))); });
      add(box, el("div", "label", k), alts);
    });
    return box;
  }
  function paramTable(params) {
    var table = el("table");
    add(table, add(el("tr"), el("th", null, "name"), el("th", null, "in"), el("th", null, "schema"), el("th", null, "description")));
    params.forEach(function (raw) {
      var p = resolve(raw);
      var name = add(el("td"), el("code", null, p.name), p.required ? el("span", "req", "required") : null);
      add(table, add(el("tr"), name, el("td", null, p.in), add(el("td"), schemaView(p.schema || {}, 1)), add(el("td"), prose(p.description, "prose small"))));
    });
    return table;
  }
  function content(media) {
    var box = el("div");
    Object.keys(media || {}).forEach(function (type) {
      add(box, el("div", "media", type), media[type].schema ? schemaView(media[type].schema, 0) : null);
    });
    return box;
  }
  function operation(path, method, op) {
    var details = el("details", "op");
    details.id = op.operationId || (method + " " + path);
    var summary = add(el("summary"), el("span", "method m-" + method, method.toUpperCase()), el("code", "path", path), el("span", "sum", op.summary || ""));
    details.appendChild(summary);
    var body = el("div", "op-body");
    if (op.description) body.appendChild(prose(op.description));
    var security = op.security || spec.security || [];
    var scopes = op["x-required-scopes"];
    var sec = el("p", "security");
    if (security.length === 0) sec.textContent = "No authentication.";
    else {
      var schemes = [];
      security.forEach(function (req) { Object.keys(req).forEach(function (k) { if (schemes.indexOf(k) < 0) schemes.push(k); }); });
      sec.textContent = "Auth: " + schemes.join(", ") + (scopes ? " · scope: " + scopes.join(" or ") : "");
    }
    body.appendChild(sec);
    var params = (op.parameters || []).concat(spec.paths[path].parameters || []);
    if (params.length) add(body, el("h4", null, "Parameters"), paramTable(params));
    if (op.requestBody) {
      var rb = resolve(op.requestBody);
      add(body, el("h4", null, "Request body" + (rb.required ? " (required)" : " (optional)")), rb.description ? prose(rb.description) : null, content(rb.content));
    }
    body.appendChild(el("h4", null, "Responses"));
    Object.keys(op.responses || {}).sort().forEach(function (status) {
      var r = resolve(op.responses[status]);
      var block = add(el("div", "response"), add(el("div", "status-line"), el("span", "status s" + status.charAt(0), status), prose(r.description, "prose inline")));
      var hs = Object.keys(r.headers || {});
      if (hs.length) block.appendChild(el("div", "headers", "Headers: " + hs.join(", ")));
      block.appendChild(content(r.content));
      body.appendChild(block);
    });
    details.appendChild(body);
    return details;
  }
  function render() {
    root.textContent = "";
    var info = spec.info || {};
    add(root, el("h1", null, (info.title || "API") + " " + (info.version || "")), el("p", "muted", "OpenAPI " + spec.openapi));
    if (info.description) root.appendChild(prose(info.description));
    var groups = {}, order = (spec.tags || []).map(function (t) { return t.name; });
    Object.keys(spec.paths || {}).forEach(function (path) {
      ["get", "put", "post", "delete", "patch", "head", "options"].forEach(function (method) {
        var op = spec.paths[path][method];
        if (!op) return;
        var tag = (op.tags && op.tags[0]) || "Other";
        if (order.indexOf(tag) < 0) order.push(tag);
        (groups[tag] = groups[tag] || []).push(operation(path, method, op));
      });
    });
    var nav = el("nav");
    order.forEach(function (tag) {
      if (!groups[tag]) return;
      var link = el("a", null, tag + " (" + groups[tag].length + ")");
      link.href = "#tag-" + encodeURIComponent(tag);
      nav.appendChild(link);
    });
    root.appendChild(nav);
    order.forEach(function (tag) {
      if (!groups[tag]) return;
      var section = el("section");
      section.id = "tag-" + encodeURIComponent(tag);
      section.appendChild(el("h2", null, tag));
      var meta = (spec.tags || []).filter(function (t) { return t.name === tag; })[0];
      if (meta && meta.description) section.appendChild(prose(meta.description, "prose muted"));
      groups[tag].forEach(function (node) { section.appendChild(node); });
      root.appendChild(section);
    });
    var schemes = (spec.components || {}).securitySchemes || {};
    var sec = add(el("section"), el("h2", null, "Security schemes"));
    Object.keys(schemes).forEach(function (name) {
      var s = schemes[name];
      add(sec, add(el("p"), el("code", null, name), document.createTextNode(" — " + s.type + (s.scheme ? " " + s.scheme : "") + (s.name ? " (" + s.in + " " + s.name + ")" : "") + ": ")), prose(s.description, "prose small"));
    });
    root.appendChild(sec);
    if (location.hash) { var target = document.getElementById(decodeURIComponent(location.hash.slice(1))); if (target) { if (target.tagName === "DETAILS") target.open = true; target.scrollIntoView(); } }
  }
  fetch("openapi.json", { headers: { Accept: "application/json" } })
    .then(function (response) { if (!response.ok) throw new Error("HTTP " + response.status); return response.json(); })
    .then(function (json) { spec = json; render(); })
    .catch(function (error) { root.textContent = "Could not load openapi.json: " + error.message; });
})();
