//! The `robots` part of the OpenAPI document: group robots of WeCom, DingTalk and Feishu,
//! their delivery log (shaped like the webhooks' one, whose attempt schema it shares), a test
//! message and sending a delivery again.

use super::{
    array, boolean, codes, date_time, delivery_list_schema, delivery_log_parameters,
    delivery_schema, int64, json_body, json_response, operation, prop, request_object,
    response_object, scalar, string, text, typed, web_url, Doc, Failure,
};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{HttpMethod, Ref, ResponseBuilder};
use xiansuo_app::channels::robots::{Kind, EVENTS, LANGUAGES};

impl Doc {
    pub(super) fn robots(&mut self) {
        // A change may send null for any field, which keeps it; a new robot takes null for
        // `language` and `active` as their defaults.
        let kinds = |nullable| {
            codes(
                Kind::ALL.iter().map(|k| k.code()),
                nullable,
                "`wecom` (企业微信), `dingtalk` (钉钉) or `feishu` (飞书)",
            )
        };
        let events = |nullable| {
            array(
                codes(
                    EVENTS.iter().copied(),
                    false,
                    "An event; `opportunity.won` is a deal moved into a won stage",
                ),
                "The events the robot posts",
            )
            .schema_type(typed(Type::Array, nullable))
        };
        let languages = |nullable, doc| codes(LANGUAGES.iter().copied(), nullable, doc);
        self.schema(
            "Robot",
            response_object(
                "A group robot; its secret is not shown",
                vec![
                    prop("id", int64(false, "Unique id")),
                    prop("name", string(false, "What admins call it")),
                    prop("kind", kinds(false)),
                    prop("webhook_url", string(false, "The robot's webhook address")),
                    prop(
                        "signed",
                        boolean("Whether it has a secret (DingTalk 加签, Feishu 签名校验)"),
                    ),
                    prop("events", events(false)),
                    prop(
                        "team_id",
                        int64(true, "Only records whose owner is in this team's subtree"),
                    ),
                    prop("language", languages(false, "The language of its messages")),
                    prop("active", boolean("Whether events are posted")),
                    prop("created_by", int64(true, "The admin who created it")),
                    prop("created_at", date_time(false, "Created")),
                    prop("updated_at", date_time(false, "Last changed")),
                ],
            ),
        );
        let input_props = |change: bool| {
            let keeps = |doc: &str| {
                if change {
                    format!("{doc}; null keeps it")
                } else {
                    doc.to_owned()
                }
            };
            vec![
                prop(
                    "name",
                    text(change, true, 100, &keeps("What admins call it")),
                ),
                prop("kind", kinds(change)),
                prop(
                    "webhook_url",
                    web_url(&keeps("An http:// or https:// URL"))
                        .schema_type(typed(Type::String, change)),
                ),
                prop(
                    "secret",
                    text(
                        true,
                        false,
                        200,
                        "DingTalk's 加签 or Feishu's 签名校验 secret; null or empty for none. \
                         WeCom robots take none.",
                    ),
                ),
                prop("events", events(change).min_items(Some(1))),
                prop(
                    "team_id",
                    int64(
                        true,
                        "Only records whose owner is in this team's subtree; null for all",
                    ),
                ),
                prop(
                    "language",
                    languages(
                        true,
                        if change {
                            "The language of its messages; null keeps it"
                        } else {
                            "The language of its messages; null or left out: zh"
                        },
                    ),
                ),
                prop(
                    "active",
                    scalar(
                        Type::Boolean,
                        true,
                        if change {
                            "Post events; null keeps it"
                        } else {
                            "Post events; null or left out: true"
                        },
                    ),
                ),
            ]
        };
        self.schema(
            "RobotInput",
            request_object(
                "A new robot",
                input_props(false),
                &["name", "kind", "webhook_url", "events"],
            ),
        );
        self.schema(
            "RobotPatch",
            request_object("The fields to change", input_props(true), &[]),
        );
        self.schema(
            "RobotList",
            response_object(
                "Every robot, oldest first",
                vec![
                    prop("items", array(Ref::from_schema_name("Robot"), "The robots")),
                    prop(
                        "next_cursor",
                        string(true, "Always null: the list is whole"),
                    ),
                ],
            ),
        );
        self.schema(
            "RobotDelivery",
            delivery_schema(
                "One message sent to one robot; `error` says why an attempt failed, e.g. \
                 `errcode 310000: sign not match`",
                "Unique id",
                ("robot_id", "The robot"),
                "The event, or `test` for a test message",
                "The message as the robot's service takes it, before signing",
            ),
        );
        self.schema("RobotDeliveryList", delivery_list_schema("RobotDelivery"));

        let admin_only = "Admins only.";
        self.add(
            HttpMethod::Get,
            "/api/v1/robots",
            operation("listRobots", "robots", "List robots")
                .description(Some(admin_only))
                .response("200", json_response("Every robot", "RobotList")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/robots",
            operation("createRobot", "robots", "Create a robot")
                .description(Some(
                    "Admins only. Every active robot gets each event it names as a chat message \
                     (WeCom and DingTalk: markdown; Feishu: text) in its language, naming the \
                     lead or deal and its owner. A message is queued in the transaction of the \
                     change. DingTalk robots with a secret are signed by `timestamp` and `sign` \
                     in the URL, Feishu ones by `timestamp` and `sign` in the body. An answer \
                     other than 2xx, or a 2xx whose `errcode` (WeCom, DingTalk) or `code` \
                     (Feishu) is not 0, is retried after 1, 2, 4, … minutes, 8 attempts in all.",
                ))
                .request_body(Some(json_body("RobotInput")))
                .response("201", json_response("Created", "Robot")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/robots/{id}",
            operation("getRobot", "robots", "Get a robot")
                .description(Some(admin_only))
                .response("200", json_response("The robot", "Robot")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Patch,
            "/api/v1/robots/{id}",
            operation("updateRobot", "robots", "Change a robot")
                .description(Some(
                    "Admins only. Fields left out keep their value; a robot made a WeCom one \
                     drops its secret.",
                ))
                .request_body(Some(json_body("RobotPatch")))
                .response("200", json_response("Changed", "Robot")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Delete,
            "/api/v1/robots/{id}",
            operation("deleteRobot", "robots", "Delete a robot")
                .description(Some("Admins only. Its delivery log goes with it."))
                .response("204", ResponseBuilder::new().description("Deleted")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/robots/{id}/deliveries",
            operation("listRobotDeliveries", "robots", "List a robot's deliveries")
                .description(Some(
                    "Admins only. The delivery log, newest first, with every attempt.",
                ))
                .parameters(Some(delivery_log_parameters()))
                .response("200", json_response("One page", "RobotDeliveryList")),
            &[Failure::Forbidden, Failure::Invalid],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/robots/{id}/test",
            operation("testRobot", "robots", "Send a test message")
                .description(Some(
                    "Admins only. Sends a test message now, even to a robot that is switched \
                     off, and answers with the delivery and the robot's answer. A test is not \
                     retried.",
                ))
                .response(
                    "200",
                    json_response("The delivery, attempted", "RobotDelivery"),
                ),
            &[],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/robots/deliveries/{id}/retry",
            operation("retryRobotDelivery", "robots", "Send a delivery again")
                .description(Some(
                    "Admins only. Queues one more attempt of a delivery that succeeded or failed, \
                     made at the next run of background jobs. A pending delivery, or one of a \
                     robot that is switched off, is a 409.",
                ))
                .response("202", json_response("Queued", "RobotDelivery")),
            &[Failure::Conflict],
        );
    }
}
