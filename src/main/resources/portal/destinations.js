// The destinations a stream can send to, and the config fields of each. A field's `name` is its path in the
// stream's config ("auth.token" is config.auth.token); `secret` fields are write-only; `when` shows a field only
// for some values of the others; a `local` field only steers the form and is never sent.

const DATADOG_SITES = [
  ['US1', 'app.datadoghq.com'],
  ['US3', 'us3.datadoghq.com'],
  ['US5', 'us5.datadoghq.com'],
  ['EU1', 'app.datadoghq.eu'],
  ['AP1', 'ap1.datadoghq.com'],
  ['AP2', 'ap2.datadoghq.com'],
  ['US1-FED', 'app.ddog-gov.com'],
];

const authIs = (type) => (values) => values['auth.type'] === type;
const gcsUses = (credentials) => (values) => values.credentials === credentials;

function objectPath(bucketName, bucketPath) {
  return [bucketName, bucketPath].filter(Boolean).join('/');
}

export const DESTINATIONS = [
  {
    type: 'Datadog',
    label: 'Datadog',
    blurb: 'Datadog Log Management, on any Datadog site.',
    target: (config) => `Datadog ${config.region || 'US1'}`,
    fields: [
      { name: 'apiKey', label: 'API key', secret: true, required: true,
        help: 'An API key from Organization Settings → API Keys (not an application key).' },
      { name: 'region', label: 'Datadog site', kind: 'select', default: 'US1',
        options: DATADOG_SITES.map(([site, host]) => [site, `${site} — ${host}`]),
        help: 'The site that matches the address you use to open Datadog.' },
      { name: 'source', label: 'Source (ddsource)', placeholder: 'auditstream', help: 'Defaults to auditstream.' },
      { name: 'service', label: 'Service', placeholder: 'audit-logs', help: 'Defaults to audit-logs.' },
    ],
  },
  {
    type: 'Splunk',
    label: 'Splunk',
    blurb: 'Splunk Enterprise or Splunk Cloud, through the HTTP Event Collector.',
    target: (config) => config.url || 'Splunk',
    fields: [
      { name: 'url', label: 'HTTP Event Collector URL', kind: 'url', required: true,
        placeholder: 'https://splunk.example.com:8088',
        help: 'The base URL of your HEC, without /services/collector.' },
      { name: 'token', label: 'HEC token', secret: true, required: true },
      { name: 'index', label: 'Index', help: 'Leave empty to use the token’s default index.' },
      { name: 'source', label: 'Source' },
      { name: 'sourcetype', label: 'Source type' },
    ],
  },
  {
    type: 'S3',
    label: 'Amazon S3',
    blurb: 'One JSON object per event in your S3 bucket, written through an IAM role you control.',
    target: (config) => `s3://${objectPath(config.bucketName, config.bucketPath)}`,
    fields: [
      { name: 'accountId', label: 'AWS account ID', required: true, inputmode: 'numeric', placeholder: '123456789012',
        help: 'The 12-digit ID of the account that owns the bucket.' },
      { name: 'region', label: 'Bucket region', default: 'us-east-1', placeholder: 'us-east-1' },
      { name: 'roleName', label: 'IAM role name', required: true, placeholder: 'auditstream-log-stream',
        help: 'The role you will create after saving; the name must match.' },
      { name: 'bucketName', label: 'Bucket name', required: true },
      { name: 'bucketPath', label: 'Path in the bucket', placeholder: 'audit-logs',
        help: 'Objects are written under this prefix.' },
    ],
  },
  {
    type: 'GoogleCloudStorage',
    label: 'Google Cloud Storage',
    blurb: 'One JSON object per event in your Cloud Storage bucket.',
    target: (config) => `gs://${objectPath(config.bucketName, config.bucketPath)}`,
    fields: [
      { name: 'bucketName', label: 'Bucket name', required: true },
      { name: 'bucketPath', label: 'Path in the bucket', placeholder: 'audit-logs',
        help: 'Objects are written under this prefix.' },
      { name: 'credentials', label: 'Credentials', kind: 'radio', local: true, default: 'serviceAccountKey',
        options: [['serviceAccountKey', 'Service account key'], ['hmac', 'HMAC key']],
        initial: (config) => (config.accessKeyId && !config.serviceAccountKey ? 'hmac' : 'serviceAccountKey') },
      { name: 'serviceAccountKey', label: 'Service account key (JSON)', kind: 'textarea', secret: true, required: true,
        when: gcsUses('serviceAccountKey'), placeholder: '{"type": "service_account", …}',
        help: 'Create a service account with the role Storage Object Creator (roles/storage.objectCreator) on this '
          + 'bucket (add Storage Object Viewer if the bucket has a retention policy), create a JSON key for it '
          + '(IAM & Admin → Service accounts → Keys → Add key), and paste the whole file.' },
      { name: 'accessKeyId', label: 'Access key', required: true, when: gcsUses('hmac'), placeholder: 'GOOG1E…' },
      { name: 'secretAccessKey', label: 'Secret', secret: true, required: true, when: gcsUses('hmac') },
    ],
  },
  {
    type: 'MicrosoftSentinel',
    label: 'Microsoft Sentinel',
    blurb: 'Microsoft Sentinel (a Log Analytics workspace), through Azure Monitor’s Logs Ingestion API.',
    target: (config) => config.streamName ? `Sentinel ${config.streamName}` : 'Microsoft Sentinel',
    fields: [
      { name: 'tenantId', label: 'Directory (tenant) ID', required: true,
        placeholder: '00000000-0000-0000-0000-000000000000' },
      { name: 'clientId', label: 'Application (client) ID', required: true,
        placeholder: '00000000-0000-0000-0000-000000000000' },
      { name: 'clientSecret', label: 'Client secret (value)', secret: true, required: true,
        help: 'The secret’s Value, not its Secret ID.' },
      { name: 'dataCollectionEndpoint', label: 'Data collection endpoint (logs ingestion URL)', kind: 'url',
        required: true, placeholder: 'https://my-dce-a1b2.eastus-1.ingest.monitor.azure.com' },
      { name: 'dcrImmutableId', label: 'Data collection rule immutable ID', required: true,
        placeholder: 'dcr-00000000000000000000000000000000' },
      { name: 'streamName', label: 'Stream name', required: true, default: 'Custom-AuditStream_CL',
        placeholder: 'Custom-AuditStream_CL' },
      { name: 'cloud', label: 'Azure cloud', kind: 'select', default: 'AzurePublic',
        options: [['AzurePublic', 'Azure'], ['AzureUSGovernment', 'Azure US Government'],
          ['AzureChina', 'Azure China (21Vianet)']] },
    ],
  },
  {
    type: 'GenericHttps',
    label: 'HTTPS endpoint',
    blurb: 'Any HTTPS endpoint you run: signed batches of JSON events.',
    target: (config) => config.url || 'HTTPS endpoint',
    fields: [
      { name: 'url', label: 'Endpoint URL', kind: 'url', required: true, placeholder: 'https://siem.example.com/audit' },
      { name: 'format', label: 'Format', kind: 'select', default: 'json',
        options: [['json', 'JSON array'], ['ndjson', 'NDJSON (one event per line)']] },
      { name: 'source', label: 'Source', help: 'Added to every entry as "source".' },
      { name: 'auth.type', label: 'Authentication', kind: 'select', default: 'none',
        options: [['none', 'None (signature only)'], ['bearer', 'Bearer token'],
          ['basic', 'Basic (username and password)'], ['header', 'Custom header'],
          ['oauth2', 'OAuth2 client credentials'], ['mtls', 'Mutual TLS (client certificate)']] },
      { name: 'auth.token', label: 'Bearer token', secret: true, required: true, when: authIs('bearer') },
      { name: 'auth.username', label: 'Username', required: true, when: authIs('basic') },
      { name: 'auth.password', label: 'Password', secret: true, required: true, when: authIs('basic') },
      { name: 'auth.headerName', label: 'Header name', required: true, when: authIs('header'), placeholder: 'X-Api-Key' },
      { name: 'auth.headerValue', label: 'Header value', secret: true, required: true, when: authIs('header') },
      { name: 'auth.tokenUrl', label: 'Token URL', kind: 'url', required: true, when: authIs('oauth2'),
        placeholder: 'https://login.example.com/oauth2/token' },
      { name: 'auth.clientId', label: 'Client ID', required: true, when: authIs('oauth2') },
      { name: 'auth.clientSecret', label: 'Client secret', secret: true, required: true, when: authIs('oauth2') },
      { name: 'auth.scope', label: 'Scope', when: authIs('oauth2'), help: 'Space-separated, if your server wants one.' },
      { name: 'auth.audience', label: 'Audience', when: authIs('oauth2'),
        help: 'For servers that ask for an audience (e.g. Auth0).' },
      { name: 'auth.clientCertificate', label: 'Client certificate (PEM)', kind: 'textarea', required: true,
        when: authIs('mtls'), help: 'The certificate first, then any intermediates.' },
      { name: 'auth.clientKey', label: 'Client key (PEM)', kind: 'textarea', secret: true, required: true,
        when: authIs('mtls'), help: 'Unencrypted PKCS#8 or RSA key; it is encrypted at rest here.' },
      { name: 'auth.caCertificate', label: 'CA certificate (PEM)', kind: 'textarea', when: authIs('mtls'),
        help: 'Only if your endpoint\'s certificate comes from a private CA.' },
    ],
  },
];

export function destination(type) {
  return DESTINATIONS.find((d) => d.type === type)
    || { type, label: type, blurb: '', target: () => type, fields: [] };
}

/** The value at a dotted path of an object ("auth.type"). */
export function valueAt(object, path) {
  return path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);
}
