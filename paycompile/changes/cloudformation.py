"""What paycompile knows about the CloudFormation types it emits, without loading troposphere.

`KIND_OF_TYPE` names the graph kind whose node each resource type realises, so that a change
read from a template or a change set (which carries only logical ids and types) can be judged
the same way as one read from a graph. Helper resources (routes, associations, attachments)
belong to no kind of their own.
"""

from __future__ import annotations

from paycompile.compiler.graph import Kind

KIND_OF_TYPE: dict[str, Kind] = {
    "AWS::EC2::VPC": Kind.VPC,
    "AWS::EC2::Subnet": Kind.SUBNET,
    "AWS::EC2::InternetGateway": Kind.INTERNET_GATEWAY,
    "AWS::EC2::EIP": Kind.ELASTIC_IP,
    "AWS::EC2::NatGateway": Kind.NAT_GATEWAY,
    "AWS::EC2::RouteTable": Kind.ROUTE_TABLE,
    "AWS::EC2::FlowLog": Kind.FLOW_LOG,
    "AWS::KMS::Key": Kind.KMS_KEY,
    "AWS::Logs::LogGroup": Kind.LOG_GROUP,
    "AWS::IAM::Role": Kind.IAM_ROLE,
    "AWS::IAM::ManagedPolicy": Kind.IAM_POLICY,
    "AWS::EC2::SecurityGroup": Kind.SECURITY_GROUP,
    "AWS::EC2::SecurityGroupIngress": Kind.SECURITY_GROUP_INGRESS,
    "AWS::S3::Bucket": Kind.BUCKET,
    "AWS::S3::BucketPolicy": Kind.BUCKET_POLICY,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": Kind.LOAD_BALANCER,
    "AWS::ElasticLoadBalancingV2::TargetGroup": Kind.TARGET_GROUP,
    "AWS::ElasticLoadBalancingV2::Listener": Kind.LISTENER,
    "AWS::ElasticLoadBalancingV2::ListenerRule": Kind.LISTENER_RULE,
    "AWS::ECS::Cluster": Kind.ECS_CLUSTER,
    "AWS::ECS::TaskDefinition": Kind.TASK_DEFINITION,
    "AWS::ECS::Service": Kind.ECS_SERVICE,
    "AWS::RDS::DBSubnetGroup": Kind.DB_SUBNET_GROUP,
    "AWS::RDS::DBClusterParameterGroup": Kind.DB_CLUSTER_PARAMETER_GROUP,
    "AWS::RDS::DBCluster": Kind.DB_CLUSTER,
    "AWS::RDS::DBInstance": Kind.DB_INSTANCE,
    "AWS::SecretsManager::Secret": Kind.SECRET,
    "AWS::SecretsManager::SecretTargetAttachment": Kind.SECRET_ATTACHMENT,
    "AWS::SecretsManager::RotationSchedule": Kind.SECRET_ROTATION,
    "AWS::SNS::Topic": Kind.SNS_TOPIC,
    "AWS::SNS::Subscription": Kind.SNS_SUBSCRIPTION,
    "AWS::CloudWatch::Alarm": Kind.ALARM,
    "AWS::CloudWatch::Dashboard": Kind.DASHBOARD,
    "AWS::Backup::BackupVault": Kind.BACKUP_VAULT,
    "AWS::Backup::BackupPlan": Kind.BACKUP_PLAN,
    "AWS::Backup::BackupSelection": Kind.BACKUP_SELECTION,
    "AWS::StepFunctions::StateMachine": Kind.STATE_MACHINE,
    "AWS::SSM::Parameter": Kind.SSM_PARAMETER,
    "AWS::WAFv2::WebACL": Kind.WEB_ACL,
    "AWS::WAFv2::WebACLAssociation": Kind.WEB_ACL_ASSOCIATION,
    "AWS::WAFv2::LoggingConfiguration": Kind.WAF_LOGGING,
    "AWS::EC2::VPCEndpoint": Kind.VPC_ENDPOINT,
    "AWS::ECR::PullThroughCacheRule": Kind.PULL_THROUGH_CACHE_RULE,
    "AWS::ECR::RegistryScanningConfiguration": Kind.REGISTRY_SCANNING,
}
HELPER_TYPES = frozenset(
    {
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::Route",
        "AWS::EC2::SubnetRouteTableAssociation",
    }
)
