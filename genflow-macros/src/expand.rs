//! Code generation: the handle type, its `Action` impl and the link-time registration. Every
//! check is in `valid.rs`; this module only generates.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, Ident, ItemFn, Path, Type};

use crate::ast::{Function, Input, Kind, ParamKind, docs as docs_of, last_segment};
use crate::attr::{self, Common, FlowArgs, ToolArgs};
use crate::debug;
use crate::resolve::{path_string, runtime_path};
use crate::valid::{self, Checked, InputShape};

/// Expands `#[flow]` or `#[tool]`. On any error the user's function is still emitted, with the
/// handle type, the argument struct and (when the types allow) a bodiless `Action` impl, then
/// every error found: the rest of the crate keeps compiling against them, so an error here
/// does not cascade into errors at every use, and rust-analyzer keeps working.
pub fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item: ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = Error::new(
                Span::call_site(),
                format!("{} applies to an `async fn`", kind.attr()),
            )
            .into_compile_error();
            return quote!(#error #item);
        }
    };
    let mut errors = Vec::new();
    let (common, stream) = parse_args(kind, args, &mut errors);
    let func = Function::new(item);
    let checked = valid::check(kind, &common, stream.as_ref(), &func, &mut errors);
    let user_fn = &func.item;
    let body = if errors.is_empty() {
        Body::Calls
    } else {
        Body::NotBuilt
    };
    let generated = checked
        .can_emit
        .then(|| Plan::new(kind, &common, stream, checked))
        .map(|plan| plan.generate(&func, body));
    let errors = errors.into_iter().map(Error::into_compile_error);
    let tokens = quote!(#user_fn #generated #(#errors)*);
    debug::dump(&func.ident().to_string(), &tokens);
    tokens
}

fn parse_args(kind: Kind, args: TokenStream, errors: &mut Vec<Error>) -> (Common, Option<Type>) {
    let parsed = match kind {
        Kind::Flow => attr::parse::<FlowArgs>(args).map(|a| (a.common, a.stream)),
        Kind::Tool => attr::parse::<ToolArgs>(args).map(|a| (a.common, None)),
    };
    parsed.unwrap_or_else(|e| {
        errors.extend(e.into_iter().map(Error::from));
        (Common::default(), None)
    })
}

/// What the generated `call` does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Calls the user's function.
    Calls,
    /// Nothing: the crate does not build (an error was reported), but the handle and its impl
    /// exist so that uses elsewhere type-check.
    NotBuilt,
}

/// Everything checked, ready to generate.
struct Plan {
    kind: Kind,
    rt: Path,
    handle: Ident,
    name: String,
    description: String,
    timeout_ms: Option<u64>,
    redact: bool,
    /// Offered as an MCP tool.
    mcp: bool,
    chunk: Option<Type>,
    /// The input, when the parameters make one generated code can name.
    input: Option<InputShape>,
    /// The output, when generated code can name it.
    output: Option<Type>,
}

impl Plan {
    fn new(kind: Kind, common: &Common, stream: Option<Type>, checked: Checked) -> Plan {
        Plan {
            kind,
            rt: runtime_path(common.krate.as_ref()),
            handle: checked.names.handle,
            name: checked.name,
            description: checked.description,
            timeout_ms: checked.timeout_ms,
            redact: common.redact.is_present(),
            mcp: checked.mcp,
            chunk: stream,
            input: checked.input,
            output: checked.output,
        }
    }

    /// The argument struct, the handle and, when input and output are known, the `Action`
    /// impl and the registration.
    fn generate(&self, func: &Function, body: Body) -> TokenStream {
        let (args_struct, input_ty, bind_input) = self.input_tokens(func);
        let handle = &self.handle;
        let fn_vis = &func.item.vis;
        let noun = match self.kind {
            Kind::Flow => "flow",
            Kind::Tool => "tool",
        };
        let handle_doc = format!(
            " The {noun} `{}`: the typed handle of [`{}`].",
            self.name,
            func.ident()
        );
        let action = match (&input_ty, &self.output) {
            (Some(input_ty), Some(output)) => {
                Some(self.action_impl(func, input_ty, output, bind_input, body))
            }
            _ => None,
        };
        quote! {
            #args_struct

            #[doc = #handle_doc]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
            #fn_vis struct #handle;

            #action
        }
    }

    /// The `Action` and marker impls and the registration.
    fn action_impl(
        &self,
        func: &Function,
        input_ty: &TokenStream,
        output: &Type,
        bind_input: Option<TokenStream>,
        body: Body,
    ) -> TokenStream {
        let Plan {
            rt,
            handle,
            name,
            description,
            ..
        } = self;
        let fn_ident = func.ident();
        let kind_variant = match self.kind {
            Kind::Flow => quote!(Flow),
            Kind::Tool => quote!(Tool),
        };
        let chunk = self
            .chunk
            .as_ref()
            .map_or_else(|| quote!(()), ToTokens::to_token_stream);
        let streaming = self.chunk.is_some();
        let streaming_meta = streaming.then(|| quote!(.streaming()));
        let redact_meta = self.redact.then(|| quote!(.redact()));
        let mcp_meta = (!self.mcp).then(|| quote!(.no_mcp()));
        let timeout_meta = self
            .timeout_ms
            .map(|ms| quote!(.timeout(#rt::__private::Duration::from_millis(#ms))));
        let states: Vec<&Type> = func.states.iter().collect();
        let state_meta = (!states.is_empty())
            .then(|| quote!(.state(&[#(#rt::StateRequirement::of::<#states>()),*])));
        let state_idents: Vec<Ident> = (0..states.len())
            .map(|i| format_ident!("__state{}", i))
            .collect();
        let call_args = func.order.iter().map(|param| match *param {
            ParamKind::Ctx => quote!(&__ctx),
            ParamKind::State(i) => state_idents[i].to_token_stream(),
            ParamKind::Input(i) => match &self.input {
                Some(InputShape::Args(_)) => field_ident(&func.inputs[i], i).to_token_stream(),
                _ => quote!(__input),
            },
        });
        let call_body = match body {
            Body::Calls => quote! {
                async move {
                    #(let #state_idents = __ctx.__state_param::<#states>()?;)*
                    #bind_input
                    match #fn_ident(#(#call_args),*).await {
                        ::core::result::Result::Ok(__output) => ::core::result::Result::Ok(__output),
                        ::core::result::Result::Err(__error) => ::core::result::Result::Err(#rt::IntoFlowError::into_flow_error(__error)),
                    }
                }
            },
            Body::NotBuilt => quote!(::core::future::pending()),
        };
        let location = quote_spanned! {fn_ident.span()=>
            #rt::SourceLocation { file: ::core::file!(), line: ::core::line!() }
        };
        let bounds = self.contract_bounds(func, output);
        let predicates: Vec<&TokenStream> = bounds.iter().map(|(_, p)| p).collect();
        let registration = self.registration(&bounds);
        quote! {
            #[automatically_derived]
            const _: () = {
                impl #rt::Action for #handle where #(#predicates,)* {
                    type Input = #input_ty;
                    type Output = #output;
                    type Chunk = #chunk;

                    const META: #rt::ActionMeta = #rt::ActionMeta::new(
                        #rt::ActionKind::#kind_variant,
                        #name,
                        #location,
                    )
                    .description(#description)
                    #timeout_meta
                    #streaming_meta
                    #redact_meta
                    #mcp_meta
                    #state_meta;

                    fn schemas() -> &'static #rt::ActionSchemas {
                        static SCHEMAS: #rt::__private::OnceLock<#rt::ActionSchemas> = #rt::__private::OnceLock::new();
                        SCHEMAS.get_or_init(|| #rt::ActionSchemas::generate::<#input_ty, #output, #chunk>(#streaming))
                    }

                    fn call(
                        __ctx: #rt::FlowContext<#chunk>,
                        __input: #input_ty,
                    ) -> impl #rt::__private::Future<Output = ::core::result::Result<#output, #rt::FlowError>> + ::core::marker::Send + 'static {
                        #call_body
                    }
                }

                impl #rt::#kind_variant for #handle where #(#predicates,)* {}

                #registration
            };
        }
    }

    /// Every contract the user's types must meet, as `for<'__a> T: Contract` predicates spanned
    /// on `T`. The `Action` impl and the argument struct's impls are conditional on them (a
    /// higher-ranked predicate is not checked where it is declared), and the registration
    /// requires them one by one, so a type that misses a derive is one error on that type in
    /// the contract trait's words rather than rustc's bare trait bound.
    fn contract_bounds(&self, func: &Function, output: &Type) -> Vec<(Span, TokenStream)> {
        let rt = &self.rt;
        let bound = |ty: &Type, contract: TokenStream| {
            let predicate = quote_spanned!(ty.span()=> for<'__a> #ty: #rt::#contract);
            (ty.span(), predicate)
        };
        let mut bounds: Vec<(Span, TokenStream)> = match &self.input {
            Some(InputShape::Direct(ty)) => vec![bound(ty, quote!(FlowInput))],
            _ => func
                .inputs
                .iter()
                .map(|p| bound(&p.ty, quote!(ToolParam)))
                .collect(),
        };
        bounds.push(bound(output, quote!(FlowOutput)));
        if let Some(chunk) = &self.chunk {
            bounds.push(bound(chunk, quote!(StreamChunk)));
        }
        if let Some(error) = &func.error {
            let predicate = quote_spanned!(error.span()=>
                for<'__a> #rt::FlowError: #rt::__private::ConvertsFrom<#error>
            );
            bounds.push((error.span(), predicate));
        }
        bounds
    }

    /// The link-time registration, reached through a chain of `const fn`s that each add one
    /// contract bound: each unmet bound is reported once, at the call spanned on its type.
    fn registration(&self, bounds: &[(Span, TokenStream)]) -> TokenStream {
        let rt = &self.rt;
        let handle = &self.handle;
        let gates: Vec<Ident> = bounds
            .iter()
            .enumerate()
            .map(|(i, (span, _))| format_ident!("__genflow_contract{}", i, span = *span))
            .collect();
        let defs = gates.iter().enumerate().map(|(i, gate)| {
            let predicates = bounds[..=i].iter().map(|(_, p)| p);
            let body = match (gates.get(i + 1), bounds.get(i + 1)) {
                (Some(next), Some((span, _))) => quote_spanned!(*span=> #next()),
                _ => quote!(#rt::__private::Registration::of::<#handle>()),
            };
            quote! {
                const fn #gate() -> #rt::__private::Registration where #(#predicates,)* { #body }
            }
        });
        let first = match (gates.first(), bounds.first()) {
            (Some(gate), Some((span, _))) => quote_spanned!(*span=> #gate()),
            _ => quote!(#rt::__private::Registration::of::<#handle>()),
        };
        quote! {
            #(#defs)*
            #rt::__private::inventory::submit! { #first }
        }
    }

    /// The generated argument struct (if any), the input type (if known) and the statement that
    /// binds the argument struct's fields.
    fn input_tokens(
        &self,
        func: &Function,
    ) -> (
        Option<TokenStream>,
        Option<TokenStream>,
        Option<TokenStream>,
    ) {
        match &self.input {
            None => (None, None, None),
            Some(InputShape::Direct(ty)) => (None, Some(ty.to_token_stream()), None),
            Some(InputShape::Args(args)) => {
                let rt = &self.rt;
                let vis = &func.item.vis;
                let serde = format!("{}::__private::serde", path_string(rt));
                let doc = format!(
                    "The arguments of the tool `{}` ([`{}`]).",
                    self.name,
                    func.ident()
                );
                let fields: Vec<Ident> = func
                    .inputs
                    .iter()
                    .enumerate()
                    .map(|(i, p)| field_ident(p, i))
                    .collect();
                let types: Vec<&Type> = func.inputs.iter().map(|p| &p.ty).collect();
                let docs = func.inputs.iter().map(|p| {
                    p.attrs
                        .iter()
                        .filter(|a| a.path().is_ident("doc"))
                        .collect::<Vec<_>>()
                });
                let schema_fields = func.inputs.iter().zip(&fields).map(|(param, field)| {
                    let name = field.to_string();
                    let ty = &param.ty;
                    let description = match docs_of(&param.attrs) {
                        Some(text) => quote!(::core::option::Option::Some(#text)),
                        None => quote!(::core::option::Option::None),
                    };
                    let required = !is_option(ty);
                    let schema = quote_spanned!(ty.span()=> #rt::__private::param_schema::<#ty>);
                    quote! {
                        #rt::__private::ArgField { name: #name, description: #description, required: #required, schema: #schema }
                    }
                });
                let args_name = args.to_string();
                // Conditional on the parameters' contracts, like the `Action` impl, so a missing
                // derive is reported once, by the registration.
                let predicates: Vec<TokenStream> = types
                    .iter()
                    .map(|ty| quote!(for<'__a> #ty: #rt::ToolParam))
                    .collect();
                let serde_bound = quote!(#(#predicates),*).to_string();
                let def = quote! {
                    #[doc = #doc]
                    #[derive(#rt::__private::serde::Deserialize)]
                    #[serde(crate = #serde, bound(deserialize = #serde_bound))]
                    #vis struct #args {
                        #( #(#docs)* pub #fields: #types, )*
                    }

                    #[automatically_derived]
                    impl #rt::__private::schemars::JsonSchema for #args where #(#predicates,)* {
                        fn schema_name() -> #rt::__private::Cow<'static, str> {
                            #rt::__private::Cow::Borrowed(#args_name)
                        }

                        fn json_schema(generator: &mut #rt::__private::schemars::SchemaGenerator) -> #rt::__private::schemars::Schema {
                            #rt::__private::args_schema(generator, &[#(#schema_fields),*])
                        }
                    }
                };
                let bind = quote!(let #args { #(#fields),* } = __input;);
                (Some(def), Some(args.to_token_stream()), Some(bind))
            }
        }
    }
}

fn is_option(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Option")
}

fn field_ident(input: &Input, index: usize) -> Ident {
    input
        .ident
        .clone()
        .unwrap_or_else(|| format_ident!("arg{}", index))
}
