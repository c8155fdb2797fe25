//! A typed view of the annotated function: context, state and input parameters, output type.
//! Parsing only: what is wrong with it is for `valid.rs` to say.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, Receiver, ReturnType,
    Type,
};

/// Which attribute is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `#[flow]`.
    Flow,
    /// `#[tool]`.
    Tool,
}

impl Kind {
    /// The attribute as written, for messages.
    pub fn attr(self) -> &'static str {
        match self {
            Kind::Flow => "#[flow]",
            Kind::Tool => "#[tool]",
        }
    }
}

/// The annotated function, classified.
pub struct Function {
    /// The function as the user wrote it, parameter attributes removed.
    pub item: ItemFn,
    /// `self` parameters (never allowed).
    pub receivers: Vec<Receiver>,
    /// The `&FlowContext<..>` parameter, if any.
    pub ctx: Option<CtxParam>,
    /// `State<T>` parameters, in order.
    pub states: Vec<Type>,
    /// The remaining (input) parameters, in order.
    pub inputs: Vec<Input>,
    /// The full return type, if written.
    pub ret: Option<Type>,
    /// `T` of `Result<T, E>`, if the return type has that shape.
    pub output: Option<Type>,
    /// `E` of `Result<T, E>`, if written.
    pub error: Option<Type>,
    /// The position of each parameter kind in the user's signature.
    pub order: Vec<ParamKind>,
}

/// The context parameter.
pub struct CtxParam {
    /// The chunk type written in `&FlowContext<C>`, if any.
    pub chunk: Option<Type>,
    /// The whole parameter type, for spans.
    pub ty: Type,
    /// Whether it is taken by reference.
    pub by_ref: bool,
    /// Its position among the parameters.
    pub position: usize,
    /// The `&mut` of a mutable reference, if written.
    pub mutability: Option<syn::token::Mut>,
}

/// An input parameter.
pub struct Input {
    /// Its name when the pattern is a plain identifier.
    pub ident: Option<Ident>,
    /// Its type.
    pub ty: Type,
    /// Its attributes, moved off the function (doc comments go onto the argument struct's
    /// field).
    pub attrs: Vec<Attribute>,
    /// The whole parameter, for spans.
    pub span: Span,
}

/// What a parameter is, in signature order.
#[derive(Clone, Copy)]
pub enum ParamKind {
    /// The context.
    Ctx,
    /// The n-th `State<T>`.
    State(usize),
    /// The n-th input.
    Input(usize),
}

impl Function {
    /// Classifies the function's parameters.
    pub fn new(mut item: ItemFn) -> Function {
        let mut receivers = Vec::new();
        let mut ctx = None;
        let mut states = Vec::new();
        let mut inputs = Vec::new();
        let mut order = Vec::new();
        for (position, arg) in item.sig.inputs.iter_mut().enumerate() {
            let arg = match arg {
                FnArg::Receiver(receiver) => {
                    receivers.push(receiver.clone());
                    continue;
                }
                FnArg::Typed(arg) => arg,
            };
            let attrs = std::mem::take(&mut arg.attrs);
            if let Some(param) = context_param(&arg.ty, position) {
                order.push(ParamKind::Ctx);
                ctx = Some(param);
                continue;
            }
            if let Some(inner) = state_inner(&arg.ty) {
                order.push(ParamKind::State(states.len()));
                states.push(inner);
                continue;
            }
            let ident = match &*arg.pat {
                Pat::Ident(pat) => Some(pat.ident.clone()),
                _ => None,
            };
            order.push(ParamKind::Input(inputs.len()));
            inputs.push(Input {
                ident,
                ty: (*arg.ty).clone(),
                span: arg.span(),
                attrs,
            });
        }
        let ret = match &item.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some((**ty).clone()),
        };
        let result_args = ret.as_ref().map(result_types).unwrap_or_default();
        let output = result_args.first().cloned();
        let error = result_args.get(1).cloned();
        Function {
            item,
            receivers,
            ctx,
            states,
            inputs,
            ret,
            output,
            error,
            order,
        }
    }

    /// The function's name.
    pub fn ident(&self) -> &Ident {
        &self.item.sig.ident
    }

    /// The doc comment, trimmed as rustdoc shows it.
    pub fn doc(&self) -> Option<String> {
        docs(&self.item.attrs)
    }
}

/// The text of `#[doc = "..."]` attributes: one leading space stripped per line, trimmed.
pub fn docs(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The last path segment of `ty`, if it is a path type.
pub fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The generic type arguments of a path segment.
pub fn type_args(segment: &syn::PathSegment) -> Vec<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn context_param(ty: &Type, position: usize) -> Option<CtxParam> {
    let (inner, by_ref, mutability) = match ty {
        Type::Reference(r) => (&*r.elem, true, r.mutability),
        other => (other, false, None),
    };
    let segment = last_segment(inner)?;
    (segment.ident == "FlowContext").then(|| CtxParam {
        chunk: type_args(segment).first().map(|t| (*t).clone()),
        ty: ty.clone(),
        by_ref,
        position,
        mutability,
    })
}

fn state_inner(ty: &Type) -> Option<Type> {
    let segment = last_segment(ty)?;
    match (segment.ident == "State", type_args(segment).as_slice()) {
        (true, [inner]) => Some((*inner).clone()),
        _ => None,
    }
}

/// The type arguments of `ty` when it is a `Result<..>`.
fn result_types(ty: &Type) -> Vec<Type> {
    match last_segment(ty) {
        Some(segment) if segment.ident == "Result" => {
            type_args(segment).into_iter().cloned().collect()
        }
        _ => Vec::new(),
    }
}
