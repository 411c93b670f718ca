//! The robots' delivery log in the OpenAPI document, shaped like the webhooks' one, whose
//! attempt schema it shares. The robot routes document themselves (`crate::api::robots`).

use super::{delivery_list_schema, delivery_schema, Doc};

impl Doc {
    pub(super) fn robot_deliveries(&mut self) {
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
    }
}
