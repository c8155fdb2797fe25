//! What an MCP `tools/call` answers, as what a genflow tool returns: the structured content (or
//! the text) on success, a tool error the model sees on `isError` or a failed request.

use rmcp::ServiceError;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use crate::{FlowError, Status};

/// The output of a call that returned `result`: its `structuredContent` when there is one,
/// else its text (the blocks joined by new lines), else its content blocks as JSON. An
/// `isError` result is an error whose message is the text, shown to the model; its status is
/// the one a Genkit error body in `structuredContent` names, or `UNKNOWN`.
pub(super) fn output_of(result: CallToolResult, tool: &str) -> Result<Value, FlowError> {
    if result.is_error == Some(true) {
        let status = result
            .structured_content
            .as_ref()
            .and_then(|body| body.get("status")?.as_str())
            .and_then(Status::from_name)
            .unwrap_or(Status::Unknown);
        let text = text_of(&result.content).unwrap_or_else(|| "no message".to_owned());
        return Err(FlowError::public(
            status,
            format!("the MCP tool '{tool}' failed: {text}"),
        ));
    }
    if let Some(structured) = result.structured_content {
        return Ok(structured);
    }
    Ok(match text_of(&result.content) {
        Some(text) => Value::String(text),
        None => serde_json::to_value(&result.content).unwrap_or(Value::Null),
    })
}

/// The text of `content` when every block is text.
fn text_of(content: &[ContentBlock]) -> Option<String> {
    let texts: Option<Vec<&str>> = content
        .iter()
        .map(|block| block.as_text().map(|t| t.text.as_str()))
        .collect();
    texts.filter(|t| !t.is_empty()).map(|t| t.join("\n"))
}

/// Whether a failed request means the session is gone (so the next call reconnects), rather
/// than the server refusing this one request.
pub(super) fn is_connection_lost(error: &ServiceError) -> bool {
    !matches!(
        error,
        ServiceError::McpError(_) | ServiceError::InputRequiredRoundsExceeded { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_become_outputs_and_errors_keep_their_text() {
        let structured = CallToolResult::structured(json!({"result": 42}));
        assert_eq!(output_of(structured, "t").ok(), Some(json!({"result": 42})));

        let text = CallToolResult::success(vec![ContentBlock::text("a"), ContentBlock::text("b")]);
        assert_eq!(output_of(text, "t").ok(), Some(json!("a\nb")));

        let failed = CallToolResult::error(vec![ContentBlock::text("no such city")]);
        let error = output_of(failed, "weather_forecast").expect_err("a tool error");
        assert_eq!(error.status(), Status::Unknown);
        let body = error.to_body(false);
        assert!(body.message.contains("no such city"), "{}", body.message);

        let genkit =
            CallToolResult::structured_error(json!({"status": "NOT_FOUND", "message": "x"}));
        assert_eq!(
            output_of(genkit, "t").map_err(|e| e.status()).err(),
            Some(Status::NotFound)
        );
    }
}
