//! Every check of `#[flow]` and `#[tool]` that needs no type information: the signature, the
//! attribute's values, names and types. [`check`] runs them all and settles what generation
//! needs; each problem is one error spanned on the offending token, with the fix.

use quote::{ToTokens, format_ident};
use syn::{Error, GenericArgument, Ident, LitStr, PathArguments, Type};

use crate::ast::{Function, Kind, last_segment, type_args};
use crate::attr::Common;

/// How the action's input is built from the function's parameters.
pub enum InputShape {
    /// The single input parameter's type is the input.
    Direct(Box<Type>),
    /// A generated struct with one field per parameter (tools only).
    Args(Ident),
}

/// What the checks settle for generation.
pub struct Checked {
    /// The action name.
    pub name: String,
    /// Its description (empty only where an error says so).
    pub description: String,
    /// Deadline of one run.
    pub timeout_ms: Option<u64>,
    /// Offered as an MCP tool.
    pub mcp: bool,
    /// The generated type names.
    pub names: HandleNames,
    /// Whether generated items can sit next to the function: the handle's name is free, and
    /// the function is not a method (an `impl` block cannot hold a struct).
    pub can_emit: bool,
    /// The input, when the parameters make one whose types generated code can name.
    pub input: Option<InputShape>,
    /// `T` of `Result<T, E>`, when generated code can name it.
    pub output: Option<Type>,
}

/// Runs every check on the function and the attribute's keys, pushing each problem to `errors`.
pub fn check(
    kind: Kind,
    common: &Common,
    stream: Option<&Type>,
    func: &Function,
    errors: &mut Vec<Error>,
) -> Checked {
    check_params(func, errors);
    check_fn(kind, func, errors);
    check_context(kind, func, stream, errors);
    let sound = check_signature_types(func, stream, kind == Kind::Tool, errors);
    if !common.allow_untyped.is_present() {
        check_untyped(func, errors);
    }
    let name = common
        .name
        .as_ref()
        .map_or_else(|| func.ident().to_string(), LitStr::value);
    check_name(kind, &name, common, func, errors);
    let description = common
        .description
        .as_ref()
        .map(LitStr::value)
        .or_else(|| func.doc());
    if kind == Kind::Tool && description.is_none() {
        errors.push(Error::new_spanned(
            func.ident(),
            "a tool needs a description, since models choose tools by it: add a `/// doc comment` above the function or `description = \"...\"`",
        ));
    }
    let timeout_ms = timeout(common.timeout.as_ref(), errors);
    let names = handle_names(kind == Kind::Tool, func.ident(), common.handle.as_ref());
    let handle_free = check_handle_collision(func, &names.handle, errors);
    let output = output_type(func, errors).filter(|_| sound.output);
    let input = input_shape(kind, func, &names.args, errors).filter(|_| sound.inputs);
    Checked {
        name,
        description: description.unwrap_or_default(),
        timeout_ms,
        mcp: mcp_flag(common.mcp.as_ref(), errors),
        names,
        can_emit: handle_free && func.receivers.is_empty(),
        input,
        output,
    }
}

/// The function itself: `async`, not `unsafe`, not generic.
fn check_fn(kind: Kind, func: &Function, errors: &mut Vec<Error>) {
    let sig = &func.item.sig;
    if sig.asyncness.is_none() {
        errors.push(Error::new_spanned(
            sig.fn_token,
            format!(
                "{} functions must be `async`: write `async fn {}`",
                kind.attr(),
                sig.ident
            ),
        ));
    }
    if let syn::Safety::Unsafe(unsafety) = sig.safety {
        errors.push(Error::new_spanned(
            unsafety,
            format!("{} functions cannot be `unsafe`", kind.attr()),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(Error::new_spanned(
            &sig.generics,
            format!(
                "{} functions cannot be generic: their JSON Schemas are fixed at compile time; use concrete types",
                kind.attr()
            ),
        ));
    }
}

/// Parameters: no `self`, the context first, only doc comments on inputs.
fn check_params(func: &Function, errors: &mut Vec<Error>) {
    for receiver in &func.receivers {
        errors.push(Error::new_spanned(
            receiver,
            "genflow functions cannot take `self`: write a free `async fn` and reach shared resources through `State<T>` or `ctx.state::<T>()`",
        ));
    }
    if let Some(ctx) = func.ctx.as_ref().filter(|ctx| ctx.position != 0) {
        errors.push(Error::new_spanned(
            &ctx.ty,
            "the context must be the first parameter: move `ctx: &FlowContext` to the front",
        ));
    }
    for attr in func.inputs.iter().flat_map(|input| &input.attrs) {
        if !attr.path().is_ident("doc") {
            errors.push(Error::new_spanned(
                attr,
                "only doc comments are allowed on flow and tool parameters; for renames or defaults, take one input struct deriving `Deserialize` and `JsonSchema`",
            ));
        }
    }
}

/// The context: by reference, and streaming exactly when the flow declares a chunk type.
fn check_context(kind: Kind, func: &Function, stream: Option<&Type>, errors: &mut Vec<Error>) {
    if let Some(ctx) = &func.ctx {
        if !ctx.by_ref {
            errors.push(Error::new_spanned(
                &ctx.ty,
                "take the context by reference: `ctx: &FlowContext`",
            ));
        }
        if let (Some(chunk), None) = (&ctx.chunk, stream) {
            errors.push(Error::new_spanned(
                chunk,
                match kind {
                    Kind::Flow => "this context streams chunks, but the flow does not declare them: add `stream = ChunkType` to `#[flow(...)]`, or take `&FlowContext`",
                    Kind::Tool => "tools do not stream: take `ctx: &FlowContext`",
                },
            ));
        }
    }
    if let Some(chunk) = stream {
        let has_chunk_ctx = func.ctx.as_ref().is_some_and(|c| c.chunk.is_some());
        if !has_chunk_ctx {
            errors.push(Error::new_spanned(
                chunk,
                "a streaming flow sends chunks through its context: take `ctx: &FlowContext<ChunkType>` as the first parameter",
            ));
        }
    }
}

fn check_untyped(func: &Function, errors: &mut Vec<Error>) {
    for input in func.inputs.iter().filter(|input| is_untyped(&input.ty)) {
        errors.push(Error::new_spanned(
            &input.ty,
            "untyped JSON input has no schema, so clients and models cannot know its shape: use a struct deriving `Deserialize` and `JsonSchema`, or opt out with `allow_untyped`",
        ));
    }
}

fn check_name(kind: Kind, name: &str, common: &Common, func: &Function, errors: &mut Vec<Error>) {
    let problem = match kind {
        Kind::Flow => flow_name_problem(name),
        Kind::Tool => tool_name_problem(name),
    };
    if let Some(problem) = problem {
        match &common.name {
            Some(lit) => errors.push(Error::new_spanned(lit, problem)),
            None => errors.push(Error::new_spanned(
                func.ident(),
                format!("{problem}; set one with `name = \"...\"`"),
            )),
        }
    }
}

/// `timeout = "..."` in milliseconds.
fn timeout(lit: Option<&syn::Lit>, errors: &mut Vec<Error>) -> Option<u64> {
    let lit = lit?;
    let parsed = match lit {
        syn::Lit::Str(text) => parse_timeout(&text.value()),
        other => Err(timeout_not_a_string(other)),
    };
    parsed
        .map_err(|problem| errors.push(Error::new_spanned(lit, problem)))
        .ok()
}

/// The value of `mcp = ...`: `true` when absent; anything but a boolean is an error.
fn mcp_flag(lit: Option<&syn::Lit>, errors: &mut Vec<Error>) -> bool {
    match lit {
        None => true,
        Some(syn::Lit::Bool(flag)) => flag.value,
        Some(other) => {
            errors.push(Error::new_spanned(
                other,
                "`mcp` takes `true` or `false`: write `mcp = false` to keep this action off the MCP server",
            ));
            true
        }
    }
}

/// `T` of the `Result<T, E>` return type.
fn output_type(func: &Function, errors: &mut Vec<Error>) -> Option<Type> {
    let sig = &func.item.sig;
    match (&func.ret, &func.output) {
        (_, Some(output)) => Some(output.clone()),
        (None, _) => {
            errors.push(Error::new_spanned(
                &sig.ident,
                "genflow functions return `Result<Output, FlowError>`: add `-> Result<YourOutput, FlowError>`",
            ));
            None
        }
        (Some(ret), None) => {
            errors.push(Error::new_spanned(
                ret,
                format!(
                    "genflow functions return `Result<Output, FlowError>`: write `-> Result<{}, FlowError>` and wrap the value in `Ok(...)`",
                    written(ret)
                ),
            ));
            None
        }
    }
}

/// A flow's one input, or a tool's input: its one parameter's type, or an argument struct.
fn input_shape(
    kind: Kind,
    func: &Function,
    args: &Ident,
    errors: &mut Vec<Error>,
) -> Option<InputShape> {
    let sig = &func.item.sig;
    match (kind, func.inputs.as_slice()) {
        (Kind::Flow, []) => {
            errors.push(Error::new_spanned(
                &sig.ident,
                "a flow takes exactly one input: add a parameter such as `input: MyInput` (use `_: ()` for none)",
            ));
            None
        }
        (Kind::Flow, [one]) => Some(InputShape::Direct(Box::new(one.ty.clone()))),
        (Kind::Flow, [_, second, ..]) => {
            errors.push(Error::new(
                second.span,
                "a flow takes exactly one input: bundle these parameters into one struct deriving `Deserialize` and `JsonSchema`",
            ));
            None
        }
        (Kind::Tool, [one])
            if !is_plain_value(&one.ty) && one.attrs.iter().all(|a| !a.path().is_ident("doc")) =>
        {
            Some(InputShape::Direct(Box::new(one.ty.clone())))
        }
        (Kind::Tool, inputs) => {
            let mut ok = true;
            for input in inputs {
                if input.ident.is_none() {
                    errors.push(Error::new(
                        input.span,
                        "tool parameters become named JSON arguments: use a plain name such as `query: String`",
                    ));
                    ok = false;
                }
            }
            ok.then(|| InputShape::Args(args.clone()))
        }
    }
}

/// Types that describe one value rather than a whole argument object: a tool whose single
/// parameter has such a type gets a generated argument struct.
fn is_plain_value(ty: &Type) -> bool {
    let Some(segment) = last_segment(ty) else {
        return true;
    };
    const PLAIN: &[&str] = &[
        "String", "str", "bool", "char", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16",
        "u32", "u64", "u128", "usize", "f32", "f64", "Vec", "Option", "HashMap", "BTreeMap",
        "HashSet", "BTreeSet", "Box", "Cow", "Value",
    ];
    PLAIN.iter().any(|p| segment.ident == p)
}

/// Why `name` cannot be a flow name (a URL path segment), if it cannot.
fn flow_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a flow name cannot be empty".to_owned());
    }
    if name == "." || name == ".." {
        return Some(format!("`{name}` is not a usable URL path segment"));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
        .map(|c| {
            format!(
                "flow name `{name}` contains `{c}`, which is not allowed in a URL path segment; use letters, digits, `-`, `_`, `.` or `~` (e.g. `{}`)",
                suggest_name(name)
            )
        })
}

/// Why `name` cannot be a tool name (what model APIs accept: `[A-Za-z0-9_-]{1,64}`), if it
/// cannot.
fn tool_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 64 {
        return Some(format!(
            "tool name `{name}` must be 1 to 64 characters long (model APIs reject others)"
        ));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        .map(|c| {
            format!(
                "tool name `{name}` contains `{c}`; model APIs accept only letters, digits, `-` and `_` (e.g. `{}`)",
                suggest_name(name)
            )
        })
}

fn suggest_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "myFlow".to_owned()
    } else {
        cleaned
    }
}

/// The accepted duration forms, for messages.
const DURATION_FORMS: &str = "\"500ms\", \"30s\", \"1m 30s\" or \"2h\"";

/// Parses a `timeout` into milliseconds with `humantime`, the grammar of the config file's
/// durations: `"500ms"`, `"30s"`, `"1m 30s"`, `"1m30s"`, `"2h"`.
fn parse_timeout(text: &str) -> Result<u64, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. {DURATION_FORMS}"))?;
    let millis = u64::try_from(duration.as_millis())
        .map_err(|_| format!("timeout `{text}` is too large"))?;
    if millis == 0 {
        return Err(format!(
            "timeout `{text}` is under a millisecond: every run would fail; write e.g. {DURATION_FORMS}"
        ));
    }
    Ok(millis)
}

/// The message for a `timeout` that is not a string literal (`timeout = 30`).
fn timeout_not_a_string(lit: &syn::Lit) -> String {
    let suggestion = match lit {
        syn::Lit::Int(int) => format!("`timeout = \"{}s\"`", int.base10_digits()),
        _ => "`timeout = \"30s\"`".to_owned(),
    };
    format!("`timeout` takes a duration string such as {DURATION_FORMS}: write {suggestion}")
}

/// Whether generated code can name the input and output types.
struct Sound {
    inputs: bool,
    output: bool,
}

/// Rejects what rustc would otherwise report in its own words: borrowed or `impl Trait` input
/// and output types, a `&mut` context, and a context whose chunk type is not the declared one.
fn check_signature_types(
    func: &Function,
    stream: Option<&Type>,
    tool: bool,
    errors: &mut Vec<Error>,
) -> Sound {
    let before = errors.len();
    let what = if tool {
        "tool arguments are"
    } else {
        "a flow's input is"
    };
    for input in &func.inputs {
        match unsupported_part(&input.ty) {
            Some(Unsupported::Borrowed(reference)) => errors.push(Error::new_spanned(
                reference,
                format!(
                    "{what} deserialized from JSON and cannot borrow: take `{}` instead of `{}`",
                    written(&owned(reference)),
                    written(reference),
                ),
            )),
            Some(Unsupported::Opaque(opaque)) => errors.push(Error::new_spanned(
                opaque,
                "`impl Trait` has no JSON Schema: take a concrete type deriving `Deserialize` and `JsonSchema`",
            )),
            None => {}
        }
    }
    let inputs = errors.len() == before;
    let before = errors.len();
    if let Some(output) = &func.output {
        match unsupported_part(output) {
            Some(Unsupported::Borrowed(reference)) => errors.push(Error::new_spanned(
                reference,
                format!(
                    "an output is serialized after the call returns and cannot borrow: return `{}` instead of `{}`",
                    written(&owned(reference)),
                    written(reference),
                ),
            )),
            Some(Unsupported::Opaque(opaque)) => errors.push(Error::new_spanned(
                opaque,
                "`impl Trait` has no JSON Schema: return a concrete type deriving `Serialize` and `JsonSchema`",
            )),
            None => {}
        }
    }
    let output = errors.len() == before;
    if let Some(ctx) = &func.ctx {
        if let Some(mutability) = ctx.mutability {
            errors.push(Error::new_spanned(
                mutability,
                "the context is shared by the run's steps: take it by shared reference, `ctx: &FlowContext`",
            ));
        }
        if let (Some(chunk), Some(declared)) = (&ctx.chunk, stream)
            && written(chunk) != written(declared)
        {
            errors.push(Error::new_spanned(
                chunk,
                format!(
                    "this context streams `{}`, but the flow declares `stream = {}`: take `ctx: &FlowContext<{}>`",
                    written(chunk),
                    written(declared),
                    written(declared),
                ),
            ));
        }
    }
    Sound { inputs, output }
}

/// What a signature type must not contain.
enum Unsupported<'a> {
    /// A reference.
    Borrowed(&'a Type),
    /// An `impl Trait`.
    Opaque(&'a Type),
}

/// The first reference or `impl Trait` in `ty`, outermost first.
fn unsupported_part(ty: &Type) -> Option<Unsupported<'_>> {
    match ty {
        Type::Reference(_) => Some(Unsupported::Borrowed(ty)),
        Type::ImplTrait(_) => Some(Unsupported::Opaque(ty)),
        Type::Paren(inner) => unsupported_part(&inner.elem),
        Type::Group(inner) => unsupported_part(&inner.elem),
        Type::Slice(inner) => unsupported_part(&inner.elem),
        Type::Array(inner) => unsupported_part(&inner.elem),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(unsupported_part),
        Type::Path(path) => path
            .path
            .segments
            .iter()
            .filter_map(|segment| match &segment.arguments {
                PathArguments::AngleBracketed(args) => Some(args),
                _ => None,
            })
            .flat_map(|args| &args.args)
            .find_map(|arg| match arg {
                GenericArgument::Type(t) => unsupported_part(t),
                _ => None,
            }),
        _ => None,
    }
}

/// The owned type a reference stands for: `&str` -> `String`, `&[T]` -> `Vec<T>`, `&T` -> `T`.
fn owned(reference: &Type) -> Type {
    let Type::Reference(r) = reference else {
        return reference.clone();
    };
    match &*r.elem {
        Type::Path(p) if p.path.is_ident("str") => syn::parse_quote!(String),
        Type::Slice(slice) => {
            let elem = &slice.elem;
            syn::parse_quote!(Vec<#elem>)
        }
        other => other.clone(),
    }
}

/// A type as the user would write it (`Vec<String>`, not `Vec < String >`), for messages.
pub fn written(ty: &impl ToTokens) -> String {
    let spaced = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(spaced.len());
    let mut chars = spaced.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glue_prev = matches!(prev, Some('<' | '&' | ':' | '(' | '[' | '\''));
            let glue_next = matches!(next, Some('<' | '>' | ',' | ':' | ')' | ']'));
            if glue_prev || glue_next {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Whether `ty` is an untyped JSON value (`serde_json::Value`, or a map or list of them).
fn is_untyped(ty: &Type) -> bool {
    let Some(segment) = last_segment(ty) else {
        return false;
    };
    let args = type_args(segment);
    match segment.ident.to_string().as_str() {
        "Value" => args.is_empty(),
        "Map" | "HashMap" | "BTreeMap" | "IndexMap" => args.last().is_some_and(|v| is_untyped(v)),
        "Vec" | "Option" | "Box" => args.first().is_some_and(|v| is_untyped(v)),
        _ => false,
    }
}

/// The generated type names of one function.
pub struct HandleNames {
    /// The handle type.
    pub handle: Ident,
    /// The argument struct of a tool with named parameters.
    pub args: Ident,
}

/// `rag_query` gets the handle `RagQueryFlow` (a tool `search_db`: `SearchDbTool`) and the
/// argument struct `SearchDbArgs`; `handle = Name` gives `Name` and `NameArgs`. The suffix
/// keeps the handle clear of the types users name after the function (`fn budget() ->
/// Result<Budget, _>`).
fn handle_names(tool: bool, function: &Ident, explicit: Option<&Ident>) -> HandleNames {
    let camel = camel_case(&function.to_string());
    let suffix = if tool { "Tool" } else { "Flow" };
    match explicit {
        Some(handle) => HandleNames {
            handle: handle.clone(),
            args: format_ident!("{}Args", handle, span = function.span()),
        },
        None => HandleNames {
            handle: format_ident!("{}{}", camel, suffix, span = function.span()),
            args: format_ident!("{}Args", camel, span = function.span()),
        },
    }
}

/// Rejects a handle name that a type in the signature already uses (it would be defined twice);
/// whether the name is free.
fn check_handle_collision(func: &Function, handle: &Ident, errors: &mut Vec<Error>) -> bool {
    let before = errors.len();
    let written_types = func
        .inputs
        .iter()
        .map(|input| &input.ty)
        .chain(&func.output)
        .chain(&func.error);
    for ty in written_types {
        if last_segment(ty).is_some_and(|segment| segment.ident == *handle) {
            errors.push(Error::new_spanned(
                ty,
                format!(
                    "`{handle}` is the name of this function's generated handle type, so it would be defined twice: name the handle with `handle = {handle}Handle` in the attribute"
                ),
            ));
        }
    }
    errors.len() == before
}

/// `rag_query` -> `RagQuery`.
fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_in_every_unit() {
        assert_eq!(parse_timeout("500ms"), Ok(500));
        assert_eq!(parse_timeout("30s"), Ok(30_000));
        assert_eq!(parse_timeout("2m"), Ok(120_000));
        assert_eq!(parse_timeout("1h"), Ok(3_600_000));
        assert_eq!(parse_timeout("1m30s"), Ok(90_000));
        assert_eq!(parse_timeout("1m 30s"), Ok(90_000));
        assert_eq!(parse_timeout("2 days"), Ok(172_800_000));
        for bad in ["", "30", "s", "10x", "0s", "-1s", "99999999999999999999h"] {
            assert!(parse_timeout(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn names_follow_url_and_model_rules() {
        assert_eq!(flow_name_problem("ragQuery"), None);
        assert_eq!(flow_name_problem("v1.rag-query~x"), None);
        assert!(flow_name_problem("rag query").is_some());
        assert!(flow_name_problem("a/b").is_some());
        assert!(flow_name_problem("..").is_some());
        assert_eq!(tool_name_problem("search_db"), None);
        assert!(tool_name_problem("search.db").is_some());
        assert!(tool_name_problem(&"x".repeat(65)).is_some());
    }

    #[test]
    fn untyped_values_are_recognised() {
        let untyped: [Type; 4] = [
            syn::parse_quote!(serde_json::Value),
            syn::parse_quote!(HashMap<String, Value>),
            syn::parse_quote!(Vec<serde_json::Value>),
            syn::parse_quote!(serde_json::Map<String, serde_json::Value>),
        ];
        assert!(untyped.iter().all(is_untyped));
        let typed: [Type; 2] = [
            syn::parse_quote!(QueryInput),
            syn::parse_quote!(HashMap<String, u32>),
        ];
        assert!(!typed.iter().any(is_untyped));
    }

    #[test]
    fn types_print_as_written() {
        let cases: [(Type, &str); 4] = [
            (syn::parse_quote!(Vec<String>), "Vec<String>"),
            (syn::parse_quote!(&'a [u8]), "&'a [u8]"),
            (
                syn::parse_quote!(std::collections::HashMap<String, (u32, bool)>),
                "std::collections::HashMap<String, (u32, bool)>",
            ),
            (
                syn::parse_quote!(::core::option::Option<&mut str>),
                "::core::option::Option<&mut str>",
            ),
        ];
        for (ty, text) in cases {
            assert_eq!(written(&ty), text);
        }
    }

    #[test]
    fn borrowed_types_suggest_owned_ones() {
        let cases: [(Type, &str); 3] = [
            (syn::parse_quote!(&str), "String"),
            (syn::parse_quote!(&'a [u32]), "Vec<u32>"),
            (syn::parse_quote!(&Question), "Question"),
        ];
        for (ty, text) in cases {
            assert_eq!(written(&owned(&ty)), text);
        }
        let nested: Type = syn::parse_quote!(Vec<Option<&str>>);
        assert!(matches!(
            unsupported_part(&nested),
            Some(Unsupported::Borrowed(_))
        ));
        let opaque: Type = syn::parse_quote!(Vec<impl Serialize>);
        assert!(matches!(
            unsupported_part(&opaque),
            Some(Unsupported::Opaque(_))
        ));
    }

    #[test]
    fn handles_are_camel_case() {
        assert_eq!(camel_case("rag_query"), "RagQuery");
        assert_eq!(camel_case("search__db_"), "SearchDb");
    }
}
