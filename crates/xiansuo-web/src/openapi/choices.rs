//! The `choices` part of the OpenAPI document: the lists of statuses, sources, follow-up
//! outcomes, lost reasons and disqualify reasons that admins edit.

use super::{
    array, boolean, codes, int64, json_body, json_response, operation, optional_boolean, prop,
    query, request_object, response_object, string, text, Doc, Failure,
};
use utoipa::openapi::{HttpMethod, Ref, ResponseBuilder};
use xiansuo_core::choice::ChoiceKind;
use xiansuo_core::lead::LeadStatus;

impl Doc {
    pub(super) fn choices(&mut self) {
        let kinds = || {
            codes(
                ChoiceKind::ALL.iter().map(|k| k.code()),
                false,
                "The list: `status` (状态), `source` (来源), `outcome` (跟进结果), \
                 `lost_reason` (输单原因) or `disqualify_reason` (无效原因)",
            )
        };
        let types = |nullable| {
            codes(
                LeadStatus::ALL.iter().map(|s| s.code()),
                nullable,
                "For statuses: the fixed type whose rules apply",
            )
        };
        self.schema(
            "Choice",
            response_object(
                "An entry of a choice list",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("kind", kinds()),
                    prop("code", string(false, "What the API and the database hold")),
                    prop("label_zh", string(false, "The Chinese label")),
                    prop("label_en", string(false, "The English label")),
                    prop("status_type", types(true)),
                    prop("position", int64(false, "Display order within the list")),
                    prop(
                        "archived",
                        boolean("Hidden from pickers; records that hold it still show its label"),
                    ),
                    prop(
                        "builtin",
                        boolean("Shipped with Xiansuo: can be relabelled, not deleted"),
                    ),
                ],
            ),
        );
        let labels = || {
            vec![
                prop(
                    "label_zh",
                    text(true, true, 60, "The Chinese label; null keeps it"),
                ),
                prop(
                    "label_en",
                    text(true, true, 60, "The English label; null keeps it"),
                ),
                prop(
                    "position",
                    int64(true, "Display order within the list; null keeps it")
                        .minimum(Some(0))
                        .maximum(Some(100_000)),
                ),
            ]
        };
        let mut new_props = vec![
            prop("kind", kinds()),
            prop(
                "code",
                string(false, "`[a-z0-9_]`, 1–40 characters, unique in its list")
                    .pattern(Some("^[a-z0-9_]{1,40}$")),
            ),
            prop("status_type", types(true)),
        ];
        new_props.extend(labels());
        self.schema(
            "NewChoice",
            request_object(
                "A new entry; `status_type` is required for statuses, and the rest take none (null)",
                new_props,
                &["kind", "code", "label_zh", "label_en"],
            ),
        );
        let mut change_props = labels();
        change_props.push(prop(
            "archived",
            optional_boolean("Hide it from pickers; the six fixed statuses cannot be archived"),
        ));
        self.schema(
            "ChoiceChange",
            request_object(
                "The fields to change; code, kind and status type stay",
                change_props,
                &[],
            ),
        );
        self.schema(
            "ChoiceList",
            response_object(
                "The entries, list by list in display order",
                vec![
                    prop(
                        "items",
                        array(Ref::from_schema_name("Choice"), "The entries"),
                    ),
                    prop(
                        "next_cursor",
                        string(true, "Always null: the list is whole"),
                    ),
                ],
            ),
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/choices",
            operation("listChoices", "choices", "List the choice lists")
                .description(Some(
                    "Anyone signed in. Wherever the API takes a status, source or outcome, it \
                     takes an entry's code or either label (case and full-width forms \
                     ignored) and stores the code. Lost and disqualify reasons stay free text; \
                     one that names a listed reason is stored as its code.",
                ))
                .parameters(Some(vec![query("kind", "Only this list", kinds()).build()]))
                .response("200", json_response("The entries", "ChoiceList")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/choices",
            operation("createChoice", "choices", "Add an entry to a choice list")
                .description(Some(
                    "Admins only. A code or label that would read as another entry's of the \
                     same list is refused (409). An added status maps to one of the six fixed \
                     types; a lead set to it stores that type in `status` and the entry in \
                     `status_detail`.",
                ))
                .request_body(Some(json_body("NewChoice")))
                .response("201", json_response("Created", "Choice")),
            &[Failure::Forbidden, Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/choices/{id}",
            operation(
                "updateChoice",
                "choices",
                "Relabel, move or archive an entry",
            )
            .description(Some("Admins only. Fields left out keep their value."))
            .request_body(Some(json_body("ChoiceChange")))
            .response("200", json_response("Changed", "Choice")),
            &[Failure::Forbidden, Failure::Conflict, Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/choices/{id}",
            operation("deleteChoice", "choices", "Delete an entry")
                .description(Some(
                    "Admins only. Built-in entries and entries some record holds are refused \
                     (409): archive them instead.",
                ))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[Failure::Forbidden, Failure::Conflict],
        );
    }
}
