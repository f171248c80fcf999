package dev.auditstream.destinations;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.auditstream.api.Json;

/**
 * What a customer pastes into AWS for an S3 stream: the role's trust policy (this service's principal, only with
 * the stream's external ID) and the permissions policy that lets the role put objects under the bucket path.
 */
public final class S3Setup {

    private S3Setup() {
    }

    public static ObjectNode of(String trustPrincipal, String externalId, String bucketName, String bucketPath) {
        ObjectNode setup = Json.MAPPER.createObjectNode();
        setup.set("trust_policy", trustPolicy(trustPrincipal, externalId));
        setup.set("permissions_policy", permissionsPolicy(bucketName, bucketPath));
        return setup;
    }

    static ObjectNode trustPolicy(String trustPrincipal, String externalId) {
        ObjectNode policy = Json.MAPPER.createObjectNode().put("Version", "2012-10-17");
        ObjectNode statement = policy.putArray("Statement").addObject();
        statement.put("Sid", "AuditStreamAssumeRole");
        statement.put("Effect", "Allow");
        statement.putObject("Principal").put("AWS", trustPrincipal);
        statement.put("Action", "sts:AssumeRole");
        statement.putObject("Condition").putObject("StringEquals").put("sts:ExternalId", externalId);
        return policy;
    }

    static ObjectNode permissionsPolicy(String bucketName, String bucketPath) {
        String prefix = bucketPath == null || bucketPath.isBlank() ? "" : EventObjects.trimSlashes(bucketPath) + "/";
        ObjectNode policy = Json.MAPPER.createObjectNode().put("Version", "2012-10-17");
        ObjectNode statement = policy.putArray("Statement").addObject();
        statement.put("Sid", "LogStreamBucketPolicy");
        statement.put("Effect", "Allow");
        ArrayNode actions = statement.putArray("Action");
        actions.add("s3:PutObject");
        statement.putArray("Resource").add("arn:aws:s3:::" + bucketName + "/" + prefix + "*");
        return policy;
    }
}
