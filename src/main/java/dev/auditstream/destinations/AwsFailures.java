package dev.auditstream.destinations;

import java.util.Set;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sts.model.StsException;

/** How S3 (and S3-compatible stores) and STS answers map to stream states. */
final class AwsFailures {

    /** Answers only the customer can fix: credentials, role trust, bucket. */
    private static final Set<String> INVALID = Set.of("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
            "NoSuchBucket", "AllAccessDisabled", "InvalidBucketName", "AccountProblem", "InvalidToken",
            "PermanentRedirect", "AuthorizationHeaderMalformed", "InvalidClientTokenId");
    /**
     * Answers that pass, whatever their status: throttling (STS answers 400 Throttling), a conflicting operation in
     * flight, and our side's session or clock (an expired session token is refreshed, a skewed clock is ours).
     */
    private static final Set<String> RETRY = Set.of("SlowDown", "RequestTimeout", "Throttling", "ThrottlingException",
            "RequestLimitExceeded", "TooManyRequestsException", "OperationAborted", "ExpiredToken",
            "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable");

    private AwsFailures() {
    }

    static Failure classify(Throwable failure, String roleArn, String externalId) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof StsException sts) {
                int status = sts.statusCode();
                if (status == 403 || "AccessDenied".equals(code(sts))) {
                    return new Failure(Failure.Kind.INVALID, status, "AssumeRole of " + roleArn + " was refused ("
                            + code(sts) + "): the role's trust policy must allow this service's principal with "
                            + "sts:ExternalId " + externalId + ".", 0, 0);
                }
                return service(sts, "STS");
            }
            if (t instanceof AwsServiceException aws) {
                return service(aws, "S3");
            }
            if (t instanceof SdkClientException client) {
                return new Failure(Failure.Kind.RETRY, null, "Could not reach the store: "
                        + ConfigChecks.abbreviate(client.getMessage()), 0, 0);
            }
        }
        return null;
    }

    private static Failure service(AwsServiceException aws, String service) {
        String code = code(aws);
        int status = aws.statusCode();
        String message = service + " " + status + " " + code + ": " + ConfigChecks.abbreviate(
                aws.awsErrorDetails() == null ? aws.getMessage() : aws.awsErrorDetails().errorMessage());
        Failure.Kind kind;
        if (INVALID.contains(code) || code.startsWith("KMS.")) {
            // KMS.*: the bucket's encryption key is disabled or not usable by the role
            kind = Failure.Kind.INVALID;
        } else if (RETRY.contains(code) || status >= 500 || status == 429) {
            kind = Failure.Kind.RETRY;
        } else {
            kind = Failure.kindOf(status);
        }
        return new Failure(kind, status, message, 0, 0);
    }

    private static String code(AwsServiceException aws) {
        return aws.awsErrorDetails() == null || aws.awsErrorDetails().errorCode() == null
                ? "Unknown" : aws.awsErrorDetails().errorCode();
    }
}
