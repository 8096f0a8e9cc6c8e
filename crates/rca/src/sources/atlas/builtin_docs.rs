//! The compiled-in component description files of the built-in systems
//! (`crates/rca/systems/<system>/components/<service>.md`), in each system's service order,
//! and PetShop's (`crates/rca/systems/petshop/components/`).

/// (service, Markdown text) of each description file of built-in system `system`.
pub(crate) fn builtin_component_docs(
    system: &str,
) -> Option<&'static [(&'static str, &'static str)]> {
    match system {
        "online-boutique" => Some(&[
            ("frontend", include_str!("../../../systems/online-boutique/components/frontend.md")),
            (
                "cartservice",
                include_str!("../../../systems/online-boutique/components/cartservice.md"),
            ),
            (
                "productcatalogservice",
                include_str!(
                    "../../../systems/online-boutique/components/productcatalogservice.md"
                ),
            ),
            (
                "currencyservice",
                include_str!("../../../systems/online-boutique/components/currencyservice.md"),
            ),
            (
                "paymentservice",
                include_str!("../../../systems/online-boutique/components/paymentservice.md"),
            ),
            (
                "shippingservice",
                include_str!("../../../systems/online-boutique/components/shippingservice.md"),
            ),
            (
                "emailservice",
                include_str!("../../../systems/online-boutique/components/emailservice.md"),
            ),
            (
                "checkoutservice",
                include_str!("../../../systems/online-boutique/components/checkoutservice.md"),
            ),
            (
                "recommendationservice",
                include_str!(
                    "../../../systems/online-boutique/components/recommendationservice.md"
                ),
            ),
            ("adservice", include_str!("../../../systems/online-boutique/components/adservice.md")),
            (
                "redis-cart",
                include_str!("../../../systems/online-boutique/components/redis-cart.md"),
            ),
        ]),
        "sock-shop" => Some(&[
            ("front-end", include_str!("../../../systems/sock-shop/components/front-end.md")),
            ("session-db", include_str!("../../../systems/sock-shop/components/session-db.md")),
            ("catalogue", include_str!("../../../systems/sock-shop/components/catalogue.md")),
            ("catalogue-db", include_str!("../../../systems/sock-shop/components/catalogue-db.md")),
            ("carts", include_str!("../../../systems/sock-shop/components/carts.md")),
            ("carts-db", include_str!("../../../systems/sock-shop/components/carts-db.md")),
            ("orders", include_str!("../../../systems/sock-shop/components/orders.md")),
            ("orders-db", include_str!("../../../systems/sock-shop/components/orders-db.md")),
            ("payment", include_str!("../../../systems/sock-shop/components/payment.md")),
            ("user", include_str!("../../../systems/sock-shop/components/user.md")),
            ("user-db", include_str!("../../../systems/sock-shop/components/user-db.md")),
            ("shipping", include_str!("../../../systems/sock-shop/components/shipping.md")),
            ("rabbitmq", include_str!("../../../systems/sock-shop/components/rabbitmq.md")),
            ("queue-master", include_str!("../../../systems/sock-shop/components/queue-master.md")),
        ]),
        "train-ticket" => Some(&[
            (
                "ts-ui-dashboard",
                include_str!("../../../systems/train-ticket/components/ts-ui-dashboard.md"),
            ),
            (
                "ts-auth-service",
                include_str!("../../../systems/train-ticket/components/ts-auth-service.md"),
            ),
            (
                "ts-verification-code-service",
                include_str!(
                    "../../../systems/train-ticket/components/ts-verification-code-service.md"
                ),
            ),
            (
                "ts-user-service",
                include_str!("../../../systems/train-ticket/components/ts-user-service.md"),
            ),
            (
                "ts-contacts-service",
                include_str!("../../../systems/train-ticket/components/ts-contacts-service.md"),
            ),
            (
                "ts-station-service",
                include_str!("../../../systems/train-ticket/components/ts-station-service.md"),
            ),
            (
                "ts-train-service",
                include_str!("../../../systems/train-ticket/components/ts-train-service.md"),
            ),
            (
                "ts-route-service",
                include_str!("../../../systems/train-ticket/components/ts-route-service.md"),
            ),
            (
                "ts-price-service",
                include_str!("../../../systems/train-ticket/components/ts-price-service.md"),
            ),
            (
                "ts-config-service",
                include_str!("../../../systems/train-ticket/components/ts-config-service.md"),
            ),
            (
                "ts-basic-service",
                include_str!("../../../systems/train-ticket/components/ts-basic-service.md"),
            ),
            (
                "ts-ticketinfo-service",
                include_str!("../../../systems/train-ticket/components/ts-ticketinfo-service.md"),
            ),
            (
                "ts-travel-service",
                include_str!("../../../systems/train-ticket/components/ts-travel-service.md"),
            ),
            (
                "ts-seat-service",
                include_str!("../../../systems/train-ticket/components/ts-seat-service.md"),
            ),
            (
                "ts-order-service",
                include_str!("../../../systems/train-ticket/components/ts-order-service.md"),
            ),
            (
                "ts-order-other-service",
                include_str!("../../../systems/train-ticket/components/ts-order-other-service.md"),
            ),
            (
                "ts-security-service",
                include_str!("../../../systems/train-ticket/components/ts-security-service.md"),
            ),
            (
                "ts-preserve-service",
                include_str!("../../../systems/train-ticket/components/ts-preserve-service.md"),
            ),
            (
                "ts-assurance-service",
                include_str!("../../../systems/train-ticket/components/ts-assurance-service.md"),
            ),
            (
                "ts-food-service",
                include_str!("../../../systems/train-ticket/components/ts-food-service.md"),
            ),
            (
                "ts-food-map-service",
                include_str!("../../../systems/train-ticket/components/ts-food-map-service.md"),
            ),
            (
                "ts-consign-service",
                include_str!("../../../systems/train-ticket/components/ts-consign-service.md"),
            ),
            (
                "ts-consign-price-service",
                include_str!(
                    "../../../systems/train-ticket/components/ts-consign-price-service.md"
                ),
            ),
            (
                "ts-inside-payment-service",
                include_str!(
                    "../../../systems/train-ticket/components/ts-inside-payment-service.md"
                ),
            ),
            (
                "ts-payment-service",
                include_str!("../../../systems/train-ticket/components/ts-payment-service.md"),
            ),
            (
                "ts-cancel-service",
                include_str!("../../../systems/train-ticket/components/ts-cancel-service.md"),
            ),
            (
                "ts-execute-service",
                include_str!("../../../systems/train-ticket/components/ts-execute-service.md"),
            ),
            (
                "ts-notification-service",
                include_str!("../../../systems/train-ticket/components/ts-notification-service.md"),
            ),
        ]),
        _ => None,
    }
}

/// (file name, Markdown text) of each PetShop component description
/// (`crates/rca/systems/petshop/components/`); the component is the file's `# <node>`
/// heading (node names hold characters a file name cannot).
pub(crate) fn petshop_component_docs() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "ecs-task-metadata_remote.md",
            include_str!("../../../systems/petshop/components/ecs-task-metadata_remote.md"),
        ),
        (
            "AWSSimpleSystemsManagement_AWS-AWSSimpleSystemsManagement.md",
            include_str!(
                "../../../systems/petshop/components/AWSSimpleSystemsManagement_AWS-AWSSimpleSystemsManagement.md"
            ),
        ),
        (
            "DynamoDB_AWS-DynamoDB.md",
            include_str!("../../../systems/petshop/components/DynamoDB_AWS-DynamoDB.md"),
        ),
        (
            "Evidently_AWS-Evidently.md",
            include_str!("../../../systems/petshop/components/Evidently_AWS-Evidently.md"),
        ),
        (
            "PGSQL_Query_remote.md",
            include_str!("../../../systems/petshop/components/PGSQL_Query_remote.md"),
        ),
        (
            "PetAdoptionStatusUpdater_prod_AWS-ApiGateway-Stage.md",
            include_str!(
                "../../../systems/petshop/components/PetAdoptionStatusUpdater_prod_AWS-ApiGateway-Stage.md"
            ),
        ),
        (
            "PetSearch_AWS-ECS-Fargate.md",
            include_str!("../../../systems/petshop/components/PetSearch_AWS-ECS-Fargate.md"),
        ),
        (
            "PetSearch_client.md",
            include_str!("../../../systems/petshop/components/PetSearch_client.md"),
        ),
        ("PetSite.md", include_str!("../../../systems/petshop/components/PetSite.md")),
        ("SSM_AWS-SSM.md", include_str!("../../../systems/petshop/components/SSM_AWS-SSM.md")),
        ("STS_AWS-STS.md", include_str!("../../../systems/petshop/components/STS_AWS-STS.md")),
        (
            "SimpleNotificationService_AWS-SimpleNotificationService.md",
            include_str!(
                "../../../systems/petshop/components/SimpleNotificationService_AWS-SimpleNotificationService.md"
            ),
        ),
        (
            "SimpleSystemsManagement_AWS-SimpleSystemsManagement.md",
            include_str!(
                "../../../systems/petshop/components/SimpleSystemsManagement_AWS-SimpleSystemsManagement.md"
            ),
        ),
        (
            "StepFnStateMachine_client.md",
            include_str!("../../../systems/petshop/components/StepFnStateMachine_client.md"),
        ),
        (
            "StepFunctions_AWS-StepFunctions.md",
            include_str!("../../../systems/petshop/components/StepFunctions_AWS-StepFunctions.md"),
        ),
        (
            "amazon.com_remote.md",
            include_str!("../../../systems/petshop/components/amazon.com_remote.md"),
        ),
        (
            "lambda_step_priceGreaterThan55.md",
            include_str!("../../../systems/petshop/components/lambda_step_priceGreaterThan55.md"),
        ),
        (
            "lambda_step_priceGreaterThan55_AWS-Lambda.md",
            include_str!(
                "../../../systems/petshop/components/lambda_step_priceGreaterThan55_AWS-Lambda.md"
            ),
        ),
        (
            "lambda_step_priceGreaterThan55_AWS-Lambda-Function.md",
            include_str!(
                "../../../systems/petshop/components/lambda_step_priceGreaterThan55_AWS-Lambda-Function.md"
            ),
        ),
        (
            "lambda_step_priceLessThan55.md",
            include_str!("../../../systems/petshop/components/lambda_step_priceLessThan55.md"),
        ),
        (
            "lambda_step_priceLessThan55_AWS-Lambda.md",
            include_str!(
                "../../../systems/petshop/components/lambda_step_priceLessThan55_AWS-Lambda.md"
            ),
        ),
        (
            "lambda_step_priceLessThan55_AWS-Lambda-Function.md",
            include_str!(
                "../../../systems/petshop/components/lambda_step_priceLessThan55_AWS-Lambda-Function.md"
            ),
        ),
        (
            "lambda_step_readDDB.md",
            include_str!("../../../systems/petshop/components/lambda_step_readDDB.md"),
        ),
        (
            "lambda_step_readDDB_AWS-Lambda.md",
            include_str!("../../../systems/petshop/components/lambda_step_readDDB_AWS-Lambda.md"),
        ),
        (
            "lambda_step_readDDB_AWS-Lambda-Function.md",
            include_str!(
                "../../../systems/petshop/components/lambda_step_readDDB_AWS-Lambda-Function.md"
            ),
        ),
        (
            "lambdastatusupdater_AWS-Lambda.md",
            include_str!("../../../systems/petshop/components/lambdastatusupdater_AWS-Lambda.md"),
        ),
        (
            "lambdastatusupdater_AWS-Lambda-Function.md",
            include_str!(
                "../../../systems/petshop/components/lambdastatusupdater_AWS-Lambda-Function.md"
            ),
        ),
        (
            "payforadoption_AWS-ECS-Container.md",
            include_str!("../../../systems/petshop/components/payforadoption_AWS-ECS-Container.md"),
        ),
        (
            "petInfo_AWS-DynamoDB-Table.md",
            include_str!("../../../systems/petshop/components/petInfo_AWS-DynamoDB-Table.md"),
        ),
        (
            "petlistadoptions_AWS-ECS-Fargate.md",
            include_str!("../../../systems/petshop/components/petlistadoptions_AWS-ECS-Fargate.md"),
        ),
        (
            "petlistadoptions_client.md",
            include_str!("../../../systems/petshop/components/petlistadoptions_client.md"),
        ),
        (
            "www.amazon.com_remote.md",
            include_str!("../../../systems/petshop/components/www.amazon.com_remote.md"),
        ),
        ("S3_AWS-S3.md", include_str!("../../../systems/petshop/components/S3_AWS-S3.md")),
        (
            "invalid_AWS-DynamoDB-Table.md",
            include_str!("../../../systems/petshop/components/invalid_AWS-DynamoDB-Table.md"),
        ),
        (
            "elb-search-from-list_remote.md",
            include_str!("../../../systems/petshop/components/elb-search-from-list_remote.md"),
        ),
        (
            "AWS-StepFunctions-StateMachine.md",
            include_str!("../../../systems/petshop/components/AWS-StepFunctions-StateMachine.md"),
        ),
        (
            "adoptions_services-database_Database-SQL.md",
            include_str!(
                "../../../systems/petshop/components/adoptions_services-database_Database-SQL.md"
            ),
        ),
        (
            "sqs-sqspetadoption_AWS-SQS-Queue.md",
            include_str!("../../../systems/petshop/components/sqs-sqspetadoption_AWS-SQS-Queue.md"),
        ),
        (
            "elb-listadoptions_remote.md",
            include_str!("../../../systems/petshop/components/elb-listadoptions_remote.md"),
        ),
        (
            "elb-petsite_remote.md",
            include_str!("../../../systems/petshop/components/elb-petsite_remote.md"),
        ),
        (
            "elb-search_remote.md",
            include_str!("../../../systems/petshop/components/elb-search_remote.md"),
        ),
        (
            "execute-api_remote.md",
            include_str!("../../../systems/petshop/components/execute-api_remote.md"),
        ),
        (
            "payforadoption_client.md",
            include_str!("../../../systems/petshop/components/payforadoption_client.md"),
        ),
        (
            "elb-payforadoption_remote.md",
            include_str!("../../../systems/petshop/components/elb-payforadoption_remote.md"),
        ),
    ]
}
