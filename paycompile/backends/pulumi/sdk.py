"""pulumi-aws and pulumi-random, imported once for every module of the Pulumi backend."""

import warnings

import pulumi_random as random

# pulumi_aws loads each submodule in full on first use, and loading ec2 and s3 warns about
# deprecated resources paycompile never uses: load the ones used here while muted.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pulumi_aws as aws

    _USED_MODULES = (
        aws.backup.Vault,
        aws.cloudwatch.LogGroup,
        aws.ec2.Vpc,
        aws.ecs.Cluster,
        aws.iam.Role,
        aws.kms.Key,
        aws.lb.LoadBalancer,
        aws.rds.Cluster,
        aws.s3.Bucket,
        aws.secretsmanager.Secret,
        aws.serverlessrepository.CloudFormationStack,
        aws.sfn.StateMachine,
        aws.sns.Topic,
        aws.ssm.Parameter,
        aws.vpc.SecurityGroupIngressRule,
        aws.wafv2.WebAcl,
    )

__all__ = ["aws", "random"]
