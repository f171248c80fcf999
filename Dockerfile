# AuditStream's container image: built from source in a Maven stage, run on a JRE as an unprivileged user.
#   docker build -t auditstream:0.1.0 .
# The image runs the jar with the packaged routes/ and application.properties; on Kubernetes a ConfigMap mounted at
# /etc/auditstream (AUDITSTREAM_CONFIG_DIR) overrides them file by file. See k8s/README.md.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
# a layer of dependencies that only changes with pom.xml; anything it misses, the package step fetches (or fails on)
RUN mvn -B -q dependency:go-offline -DskipTests -Dmaven.test.skip=true || true
COPY application.properties ./
COPY routes routes
COPY src/main src/main
RUN mvn -B -q package -DskipTests -Dmaven.test.skip=true

FROM eclipse-temurin:17-jre
# a fixed numeric uid, so Kubernetes can verify runAsNonRoot without looking the name up
RUN useradd --system --uid 10001 --gid 0 --no-create-home --home-dir /deployments auditstream
WORKDIR /deployments
COPY --from=build /src/target/lib lib
COPY --from=build /src/target/auditstream.jar auditstream.jar
USER 10001
# only used when no AUDITSTREAM_DB_URL is set (embedded PostgreSQL, for trying the image out)
ENV AUDITSTREAM_DATA_DIR=/tmp/auditstream
# API, and management (health probes, Prometheus metrics)
EXPOSE 8080 9876
COPY jvm.options jvm.options
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "@/deployments/jvm.options", "-jar", "/deployments/auditstream.jar"]
