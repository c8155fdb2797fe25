//! Checks on names, timeouts and input types that need no type information.

use quote::{ToTokens, format_ident};
use syn::{Error, GenericArgument, Ident, PathArguments, Type};

use crate::ast::{Function, last_segment, type_args};

/// Why `name` cannot be a flow name (a URL path segment), if it cannot.
pub fn flow_name_problem(name: &str) -> Option<String> {
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
pub fn tool_name_problem(name: &str) -> Option<String> {
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
pub fn parse_timeout(text: &str) -> Result<u64, String> {
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
pub fn timeout_not_a_string(lit: &syn::Lit) -> String {
    let suggestion = match lit {
        syn::Lit::Int(int) => format!("`timeout = \"{}s\"`", int.base10_digits()),
        _ => "`timeout = \"30s\"`".to_owned(),
    };
    format!("`timeout` takes a duration string such as {DURATION_FORMS}: write {suggestion}")
}

/// Rejects what rustc would otherwise report in its own words: borrowed or `impl Trait` input
/// and output types, a `&mut` context, and a context whose chunk type is not the declared one.
pub fn check_signature_types(
    func: &Function,
    stream: Option<&Type>,
    tool: bool,
    errors: &mut Vec<Error>,
) {
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
pub fn is_untyped(ty: &Type) -> bool {
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
pub fn handle_names(tool: bool, function: &Ident, explicit: Option<&Ident>) -> HandleNames {
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

/// Rejects a handle name that a type in the signature already uses (it would be defined twice).
pub fn check_handle_collision(func: &Function, handle: &Ident, errors: &mut Vec<Error>) {
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
