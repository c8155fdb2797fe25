//! A failed run as an MCP tool error: `isError`, the status and message as text, and the
//! Genkit error body (`status`, `message`, `details`) as structured content, each input
//! violation's `path` pointing into the call's arguments.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use crate::FlowError;
use crate::http::body_of;

/// The tool error of `error`; internal messages are shown only when `expose_internal` (dev
/// mode). `input_path` is where the action's input sits in the arguments (`""` or `/input`).
pub(crate) fn tool_error(
    error: &FlowError,
    expose_internal: bool,
    input_path: &str,
) -> CallToolResult {
    let mut body = body_of(error, expose_internal);
    if let Some(Value::Array(violations)) = body
        .details
        .as_mut()
        .and_then(|details| details.get_mut("errors"))
    {
        for path in violations
            .iter_mut()
            .filter_map(|violation| violation.get_mut("path"))
        {
            if let Value::String(path) = path {
                path.insert_str(0, input_path);
            }
        }
    }
    let text = format!("{}: {}", body.status, body.message);
    let mut result =
        CallToolResult::structured_error(serde_json::to_value(&body).unwrap_or(Value::Null));
    result.content = vec![ContentBlock::text(text)];
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Violation;
    use serde_json::json;

    #[test]
    fn violations_point_into_the_arguments_and_internal_messages_stay_hidden() {
        let invalid = FlowError::invalid_input(vec![Violation {
            path: "/question".to_owned(),
            message: "too short".to_owned(),
        }]);
        let result = tool_error(&invalid, false, "/input");
        assert_eq!(result.is_error, Some(true));
        let body = result.structured_content.unwrap_or_default();
        assert_eq!(body["status"], "INVALID_ARGUMENT");
        assert_eq!(
            body["details"]["errors"],
            json!([{"path": "/input/question", "message": "too short"}])
        );

        let internal = tool_error(&FlowError::internal("db password is hunter2"), false, "");
        let text = serde_json::to_string(&internal.content).unwrap_or_default();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("INTERNAL"), "{text}");
    }
}
