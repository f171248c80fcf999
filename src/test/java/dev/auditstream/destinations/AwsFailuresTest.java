package dev.auditstream.destinations;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.sts.model.StsException;

/** S3 and STS error codes as AWS documents them, and what each means for the stream. */
class AwsFailuresTest {

    @ParameterizedTest
    @CsvSource({
            "S3, 403, AccessDenied, INVALID",
            "S3, 404, NoSuchBucket, INVALID",
            "S3, 400, KMS.DisabledException, INVALID",
            "S3, 503, SlowDown, RETRY",
            "S3, 500, InternalError, RETRY",
            "S3, 400, ExpiredToken, RETRY",
            "S3, 403, RequestTimeTooSkewed, RETRY",
            "S3, 409, OperationAborted, RETRY",
            "S3, 400, RequestTimeout, RETRY",
            "STS, 400, Throttling, RETRY",
            "STS, 403, AccessDenied, INVALID",
    })
    void eachAnswerMapsToTheStateOnlyItsCauseCanChange(String service, int status, String code, Failure.Kind kind) {
        AwsErrorDetails details = AwsErrorDetails.builder().errorCode(code).errorMessage("m").build();
        Throwable answer = "STS".equals(service)
                ? StsException.builder().statusCode(status).awsErrorDetails(details).build()
                : S3Exception.builder().statusCode(status).awsErrorDetails(details).build();
        Failure failure = AwsFailures.classify(new RuntimeException(answer), "arn:aws:iam::1:role/r", "ext");
        assertThat(failure.kind()).isEqualTo(kind);
        assertThat(failure.httpStatus()).isEqualTo(status);
    }
}
