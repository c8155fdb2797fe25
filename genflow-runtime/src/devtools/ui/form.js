// A form generated from a JSON Schema (draft 2020-12, as schemars writes it): nested objects,
// arrays, enums and `oneOf`/`anyOf` variants, optional and nullable fields, defaults,
// descriptions as help, `$ref` into `$defs`. Anything else is edited as raw JSON.
//
// `form(schema)` returns `{el, get(), set(value)}`: `get()` omits empty optional fields and
// throws a `FormError` naming the field's JSON path when a raw-JSON field does not parse.

import { h } from './dom.js';

/** A field whose text is not a value of its type. */
export class FormError extends Error {
  constructor(path, message) {
    super(`${path || '/'}: ${message}`);
    this.path = path;
  }
}

let ids = 0;
const MAX_DEPTH = 12;

/** The form of an action's input schema. */
export function form(schema) {
  if (schema === undefined || schema === null) {
    return { el: h('p.muted', {}, 'This action takes no input.'), get: () => undefined, set() {} };
  }
  return field(schema, schema, { path: '', required: true, depth: 0 });
}

/** Follows `$ref` (a JSON pointer into the root schema); sibling keywords win over the target's. */
function resolve(schema, root) {
  let seen = 0;
  while (schema && typeof schema === 'object' && typeof schema.$ref === 'string' && seen++ < 32) {
    const { $ref, ...rest } = schema;
    const target = $ref.startsWith('#')
      ? $ref
          .slice(1)
          .split('/')
          .filter(Boolean)
          .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'))
          .reduce((node, part) => node?.[part], root)
      : undefined;
    schema = { ...(target || {}), ...rest };
  }
  return schema === true || !schema ? {} : schema;
}

const isNull = (s) => s?.type === 'null' || s?.const === null;

/** Splits `T | null` (type list or a two-way `anyOf`/`oneOf`) into `T` and a nullable flag. */
function nonNull(schema, root) {
  schema = resolve(schema, root);
  if (Array.isArray(schema.type) && schema.type.includes('null')) {
    const types = schema.type.filter((t) => t !== 'null');
    return { schema: { ...schema, type: types.length === 1 ? types[0] : types }, nullable: true };
  }
  for (const key of ['anyOf', 'oneOf']) {
    const variants = schema[key];
    if (Array.isArray(variants) && variants.some(isNull)) {
      const rest = variants.filter((v) => !isNull(v));
      const { [key]: _, ...outer } = schema;
      const inner = rest.length === 1 ? { ...resolve(rest[0], root), ...outer } : { ...outer, [key]: rest };
      return { schema: inner, nullable: true };
    }
  }
  return { schema, nullable: false };
}

/** The values of an `enum`, or of `oneOf`/`anyOf` whose variants are all `const`. */
function choices(schema, root) {
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => ({ value, label: JSON.stringify(value) }));
  const variants = (schema.oneOf || schema.anyOf || []).map((v) => resolve(v, root));
  if (variants.length && variants.every((v) => 'const' in v || (Array.isArray(v.enum) && v.enum.length === 1))) {
    return variants.map((v) => {
      const value = 'const' in v ? v.const : v.enum[0];
      return { value, label: JSON.stringify(value) + (v.description ? ` — ${v.description}` : '') };
    });
  }
  return null;
}

function typeOf(schema) {
  if (Array.isArray(schema.type)) return schema.type.length === 1 ? schema.type[0] : undefined;
  if (schema.type) return schema.type;
  if (schema.properties) return 'object';
  if (schema.items) return 'array';
  return undefined;
}

/** One field: its label, help and control. */
function field(raw, root, ctx) {
  const { schema, nullable } = nonNull(raw, root);
  const required = ctx.required && !nullable;
  const id = `f${++ids}`;
  const control = controlFor(schema, root, { ...ctx, required, id });
  if (schema.default !== undefined) control.set(schema.default);
  if (ctx.name === undefined) return control;
  const label = h(
    'label.label',
    { htmlFor: id },
    h('span.name', {}, ctx.name),
    required ? h('span.req', { title: 'required' }, '*') : h('span.opt', {}, 'optional'),
    schema.title ? h('span.title', {}, schema.title) : null,
    h('span.type', {}, describeType(schema, root)),
  );
  const help = schema.description ? h('small.help', {}, schema.description) : null;
  const el = h('div.field', { dataset: { path: ctx.path } }, label, help, control.el);
  return { el, get: control.get, set: control.set };
}

function describeType(schema, root) {
  if (choices(schema, root)) return 'enum';
  const type = typeOf(schema);
  if (type === 'array') return `array of ${describeType(resolve(schema.items, root), root)}`;
  return (Array.isArray(schema.type) ? schema.type.join(' | ') : type) || (schema.oneOf || schema.anyOf ? 'one of' : 'any');
}

function controlFor(schema, root, ctx) {
  if (ctx.depth > MAX_DEPTH) return rawJson(schema, ctx);
  const options = choices(schema, root);
  if (options) return select(options, ctx);
  if (schema.oneOf || schema.anyOf) return variants(schema, root, ctx);
  switch (typeOf(schema)) {
    case 'object':
      return schema.properties ? object(schema, root, ctx) : rawJson(schema, ctx);
    case 'array':
      return schema.items && !schema.prefixItems ? array(schema, root, ctx) : rawJson(schema, ctx);
    case 'string':
      return text(schema, ctx);
    case 'integer':
    case 'number':
      return number(schema, ctx);
    case 'boolean':
      return ctx.required ? checkbox(ctx) : select([true, false].map((value) => ({ value, label: String(value) })), ctx);
    case 'null':
      return { el: h('span.muted', {}, 'null'), get: () => null, set() {} };
    default:
      return rawJson(schema, ctx);
  }
}

function select(options, ctx) {
  const el = h(
    'select',
    { id: ctx.id },
    ctx.required ? null : h('option', { value: '' }, '(unset)'),
    options.map((option, i) => h('option', { value: String(i) }, option.label)),
  );
  return {
    el,
    get: () => (el.value === '' ? undefined : options[Number(el.value)].value),
    set(value) {
      const i = options.findIndex((o) => JSON.stringify(o.value) === JSON.stringify(value));
      el.value = i >= 0 ? String(i) : ctx.required ? '0' : '';
    },
  };
}

function text(schema, ctx) {
  const el = h('input', {
    id: ctx.id,
    type: 'text',
    placeholder: schema.format || schema.pattern || '',
    spellcheck: false,
  });
  if (schema.maxLength !== undefined) el.maxLength = schema.maxLength;
  return {
    el,
    get: () => (el.value === '' && !ctx.required ? undefined : el.value),
    set(value) {
      el.value = value === undefined || value === null ? '' : String(value);
    },
  };
}

function number(schema, ctx) {
  const el = h('input', { id: ctx.id, type: 'number', step: schema.type === 'integer' ? '1' : 'any' });
  if (schema.minimum !== undefined) el.min = schema.minimum;
  if (schema.maximum !== undefined) el.max = schema.maximum;
  return {
    el,
    get() {
      if (el.value === '') {
        if (ctx.required) throw new FormError(ctx.path, 'a number is required');
        return undefined;
      }
      return Number(el.value);
    },
    set(value) {
      el.value = typeof value === 'number' ? String(value) : '';
    },
  };
}

function checkbox(ctx) {
  const el = h('input', { id: ctx.id, type: 'checkbox' });
  return { el, get: () => el.checked, set: (value) => void (el.checked = value === true) };
}

/** Any JSON value, typed in as text. */
function rawJson(schema, ctx) {
  const el = h('textarea.code', { id: ctx.id, rows: 3, spellcheck: false, placeholder: 'JSON' });
  return {
    el,
    get() {
      if (el.value.trim() === '') return undefined;
      try {
        return JSON.parse(el.value);
      } catch (error) {
        throw new FormError(ctx.path, `not JSON: ${error.message}`);
      }
    },
    set(value) {
      el.value = value === undefined ? '' : JSON.stringify(value, null, 2);
    },
  };
}

/** An optional part that can be left out: a checkbox enables it. */
function optional(ctx, inner) {
  if (ctx.required) return inner;
  const toggle = h('input', { type: 'checkbox', title: 'include this field' });
  const sync = () => inner.el.classList.toggle('off', !toggle.checked);
  toggle.addEventListener('change', sync);
  sync();
  return {
    el: h('div.optional', {}, h('label.include', {}, toggle, ' include'), inner.el),
    get: () => (toggle.checked ? inner.get() : undefined),
    set(value) {
      toggle.checked = value !== undefined && value !== null;
      if (toggle.checked) inner.set(value);
      sync();
    },
  };
}

function object(schema, root, ctx) {
  const required = new Set(schema.required || []);
  // Required fields first, each group in the schema's order.
  const entries = Object.entries(schema.properties);
  const ordered = [...entries.filter(([n]) => required.has(n)), ...entries.filter(([n]) => !required.has(n))];
  const fields = ordered.map(([name, sub]) => [
    name,
    field(sub, root, {
      name,
      path: `${ctx.path}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
      required: required.has(name),
      depth: ctx.depth + 1,
    }),
  ]);
  const inner = {
    el: h('div.object', { id: ctx.id }, fields.map(([, f]) => f.el)),
    get() {
      const out = {};
      for (const [name, f] of fields) {
        const value = f.get();
        if (value !== undefined) out[name] = value;
      }
      return out;
    },
    set(value) {
      for (const [name, f] of fields) f.set(value?.[name]);
    },
  };
  return ctx.depth === 0 ? inner : optional(ctx, inner);
}

function array(schema, root, ctx) {
  const list = h('ol.items');
  const rows = [];
  const add = (value) => {
    const item = field(schema.items, root, {
      path: `${ctx.path}/${rows.length}`,
      required: true,
      depth: ctx.depth + 1,
    });
    if (value !== undefined) item.set(value);
    const row = h('li', {}, item.el, h('button.icon', { type: 'button', title: 'remove', onclick: () => remove(entry) }, '×'));
    const entry = { item, row };
    rows.push(entry);
    list.append(row);
  };
  const remove = (entry) => {
    rows.splice(rows.indexOf(entry), 1);
    entry.row.remove();
  };
  const el = h('div.array', { id: ctx.id }, list, h('button.small', { type: 'button', onclick: () => add() }, '+ add item'));
  return {
    el,
    get() {
      const values = rows.map(({ item }) => item.get()).map((v) => (v === undefined ? null : v));
      return values.length === 0 && !ctx.required ? undefined : values;
    },
    set(value) {
      for (const entry of [...rows]) remove(entry);
      if (Array.isArray(value)) value.forEach(add);
    },
  };
}

/** `oneOf`/`anyOf` of non-constant variants: pick one, fill its form. */
function variants(schema, root, ctx) {
  const options = (schema.oneOf || schema.anyOf).map((v, i) => {
    const resolved = resolve(v, root);
    return { schema: v, label: resolved.title || describeType(resolved, root) || `variant ${i + 1}`, resolved };
  });
  const picker = h(
    'select',
    { id: ctx.id },
    ctx.required ? null : h('option', { value: '' }, '(unset)'),
    options.map((o, i) => h('option', { value: String(i) }, o.label)),
  );
  const body = h('div.variant');
  let current = null;
  const show = () => {
    current =
      picker.value === ''
        ? null
        : field(options[Number(picker.value)].schema, root, { path: ctx.path, required: true, depth: ctx.depth + 1 });
    body.replaceChildren(...(current ? [current.el] : []));
  };
  picker.addEventListener('change', show);
  show();
  // How well a value fits a variant: its type first, then (objects) its required keys present
  // and no key it does not declare.
  const fit = (o, value) => {
    const type = typeOf(o.resolved);
    if (Array.isArray(value)) return type === 'array' ? 1 : 0;
    if (value === null) return type === 'null' ? 1 : 0;
    if (typeof value === 'object') {
      if (type !== 'object' && !o.resolved.properties) return 0;
      const declared = o.resolved.properties || {};
      const hasRequired = (o.resolved.required || []).every((k) => k in value);
      const allDeclared = Object.keys(value).every((k) => k in declared);
      return 1 + hasRequired + allDeclared;
    }
    if (typeof value === 'number') return type === 'number' || type === 'integer' ? 1 : 0;
    return type === typeof value ? 1 : 0;
  };
  return {
    el: h('div.variants', {}, picker, body),
    get: () => current?.get(),
    set(value) {
      if (value === undefined) {
        picker.value = ctx.required ? '0' : '';
      } else {
        const scores = options.map((o) => fit(o, value));
        picker.value = String(scores.indexOf(Math.max(...scores)));
      }
      show();
      if (current && value !== undefined) current.set(value);
    },
  };
}
