// Validates a CloudNativePG Cluster, given as JSON on stdin, against the schema generated from CloudNativePG's CRD.
// Prints nothing and exits 0 when it is valid; prints the violations and exits 1 otherwise.
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";

let input = "";
for await (const chunk of process.stdin) {
  input += chunk;
}
try {
  new Cluster(JSON.parse(input)).validate();
} catch (error) {
  console.log(error.message);
  process.exit(1);
}
