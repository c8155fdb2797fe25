//! Code generation: the handle type, its `Action` impl and the link-time registration.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, Ident, ItemFn, LitStr, Path, Type};

use crate::ast::{Function, Input, ParamKind, docs as docs_of, last_segment};
use crate::attr::{self, Common, FlowArgs, ToolArgs};
use crate::resolve::{path_string, runtime_path};
use crate::valid::{
    check_handle_collision, check_signature_types, flow_name_problem, handle_names, is_untyped,
    parse_timeout, timeout_not_a_string, tool_name_problem, written,
};

/// Which macro is expanding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `#[flow]`.
    Flow,
    /// `#[tool]`.
    Tool,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Flow => "#[flow]",
            Kind::Tool => "#[tool]",
        }
    }
}

/// Expands `#[flow]` or `#[tool]`. On any error the user's function is still emitted, followed
/// by every error found, so the rest of the crate keeps compiling and rust-analyzer keeps working.
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
    let func = Function::new(item, &mut errors);
    let plan = Plan::new(kind, common, stream, &func, &mut errors);
    let tokens = match plan {
        Some(plan) if errors.is_empty() => {
            let generated = plan.generate(&func);
            let user_fn = &func.item;
            quote!(#user_fn #generated)
        }
        _ => {
            let user_fn = &func.item;
            let errors = errors.into_iter().map(Error::into_compile_error);
            quote!(#user_fn #(#errors)*)
        }
    };
    if std::env::var_os("GENFLOW_MACROS_DEBUG").is_some() {
        eprintln!("{tokens}");
    }
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

/// How the action's input is built from the function's parameters.
enum InputShape {
    /// The single input parameter's type is the input.
    Direct(Box<Type>),
    /// A generated struct with one field per parameter (tools only).
    Args(Ident),
}

/// Everything validated, ready to generate.
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
    input: InputShape,
    output: Type,
}

impl Plan {
    fn new(
        kind: Kind,
        common: Common,
        stream: Option<Type>,
        func: &Function,
        errors: &mut Vec<Error>,
    ) -> Option<Plan> {
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
        check_context(kind, func, stream.as_ref(), errors);
        check_signature_types(func, stream.as_ref(), kind == Kind::Tool, errors);
        if !common.allow_untyped.is_present() {
            for input in &func.inputs {
                if is_untyped(&input.ty) {
                    errors.push(Error::new_spanned(
                        &input.ty,
                        "untyped JSON input has no schema, so clients and models cannot know its shape: use a struct deriving `Deserialize` and `JsonSchema`, or opt out with `allow_untyped`",
                    ));
                }
            }
        }
        let name = common
            .name
            .as_ref()
            .map_or_else(|| sig.ident.to_string(), LitStr::value);
        let name_problem = match kind {
            Kind::Flow => flow_name_problem(&name),
            Kind::Tool => tool_name_problem(&name),
        };
        if let Some(problem) = name_problem {
            match &common.name {
                Some(lit) => errors.push(Error::new_spanned(lit, problem)),
                None => errors.push(Error::new_spanned(
                    &sig.ident,
                    format!("{problem}; set one with `name = \"...\"`"),
                )),
            }
        }
        let description = common
            .description
            .as_ref()
            .map(LitStr::value)
            .or_else(|| func.doc());
        if kind == Kind::Tool && description.is_none() {
            errors.push(Error::new_spanned(
                &sig.ident,
                "a tool needs a description, since models choose tools by it: add a `/// doc comment` above the function or `description = \"...\"`",
            ));
        }
        let timeout_ms = common.timeout.as_ref().and_then(|lit| {
            let parsed = match lit {
                syn::Lit::Str(text) => parse_timeout(&text.value()),
                other => Err(timeout_not_a_string(other)),
            };
            parsed
                .map_err(|problem| errors.push(Error::new_spanned(lit, problem)))
                .ok()
        });
        let names = handle_names(kind == Kind::Tool, &sig.ident, common.handle.as_ref());
        check_handle_collision(func, &names.handle, errors);
        let handle = names.handle;
        let output = output_type(func, errors);
        let input = input_shape(kind, func, names.args, errors)?;
        Some(Plan {
            kind,
            rt: runtime_path(common.krate.as_ref()),
            handle,
            name,
            description: description.unwrap_or_default(),
            timeout_ms,
            redact: common.redact.is_present(),
            mcp: mcp_flag(common.mcp.as_ref(), errors),
            chunk: stream,
            input,
            output: output?,
        })
    }

    fn generate(&self, func: &Function) -> TokenStream {
        let Plan {
            rt,
            handle,
            name,
            description,
            ..
        } = self;
        let fn_ident = func.ident();
        let fn_vis = &func.item.vis;
        let (kind_variant, marker, noun) = match self.kind {
            Kind::Flow => (quote!(Flow), quote!(Flow), "flow"),
            Kind::Tool => (quote!(Tool), quote!(Tool), "tool"),
        };
        let handle_doc = format!(" The {noun} `{name}`: the typed handle of [`{fn_ident}`].");
        let (args_struct, input_ty, bind_input) = self.input_tokens(func);
        let output = &self.output;
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
                InputShape::Direct(_) => quote!(__input),
                InputShape::Args(_) => field_ident(&func.inputs[i], i).to_token_stream(),
            },
        });
        let location = quote_spanned! {fn_ident.span()=>
            #rt::SourceLocation { file: ::core::file!(), line: ::core::line!() }
        };
        let bounds = self.contract_bounds(func);
        let predicates: Vec<&TokenStream> = bounds.iter().map(|(_, p)| p).collect();
        let registration = self.registration(&bounds);
        quote! {
            #args_struct

            #[doc = #handle_doc]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
            #fn_vis struct #handle;

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
                        async move {
                            #(let #state_idents = __ctx.__state_param::<#states>()?;)*
                            #bind_input
                            match #fn_ident(#(#call_args),*).await {
                                ::core::result::Result::Ok(__output) => ::core::result::Result::Ok(__output),
                                ::core::result::Result::Err(__error) => ::core::result::Result::Err(#rt::IntoFlowError::into_flow_error(__error)),
                            }
                        }
                    }
                }

                impl #rt::#marker for #handle where #(#predicates,)* {}

                #registration
            };
        }
    }

    /// Every contract the user's types must meet, as `for<'__a> T: Contract` predicates spanned
    /// on `T`. The `Action` impl and the argument struct's impls are conditional on them (a
    /// higher-ranked predicate is not checked where it is declared), and the registration
    /// requires them one by one, so a type that misses a derive is one error on that type in
    /// the contract trait's words rather than rustc's bare trait bound.
    fn contract_bounds(&self, func: &Function) -> Vec<(Span, TokenStream)> {
        let rt = &self.rt;
        let bound = |ty: &Type, contract: TokenStream| {
            let predicate = quote_spanned!(ty.span()=> for<'__a> #ty: #rt::#contract);
            (ty.span(), predicate)
        };
        let mut bounds: Vec<(Span, TokenStream)> = match &self.input {
            InputShape::Direct(ty) => vec![bound(ty, quote!(FlowInput))],
            InputShape::Args(_) => func
                .inputs
                .iter()
                .map(|p| bound(&p.ty, quote!(ToolParam)))
                .collect(),
        };
        bounds.push(bound(&self.output, quote!(FlowOutput)));
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

    /// The generated argument struct (if any), the input type and the statement that binds the
    /// argument struct's fields.
    fn input_tokens(
        &self,
        func: &Function,
    ) -> (Option<TokenStream>, TokenStream, Option<TokenStream>) {
        match &self.input {
            InputShape::Direct(ty) => (None, ty.to_token_stream(), None),
            InputShape::Args(args) => {
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
                let docs = func.inputs.iter().map(|p| &p.attrs);
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
                (Some(def), args.to_token_stream(), Some(bind))
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

fn input_shape(
    kind: Kind,
    func: &Function,
    args: Ident,
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
            ok.then_some(InputShape::Args(args))
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
