//! S3 (or any S3-compatible server) through aws-sdk-s3: the standard credential chain unless
//! the target's `s3:` block gives keys, a custom endpoint and path-style addressing for
//! self-hosted servers. The SDK is async; this store owns a small runtime and blocks on it, so
//! the loader's worker threads call it like a file system.

use std::io::Read;
use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use super::{ObjectInfo, Storage, StorageError};
use crate::project::profiles::S3Config;

/// Objects up to this size go up in one request; bigger ones in parts of this size.
const PART_SIZE: usize = 16 << 20;

pub struct S3Storage {
    bucket: String,
    prefix: String,
    client: Client,
    runtime: tokio::runtime::Runtime,
}

fn sdk_error(action: &'static str, err: &dyn std::error::Error) -> StorageError {
    StorageError::S3 {
        action,
        message: DisplayErrorContext(err).to_string(),
    }
}

impl S3Storage {
    pub fn connect(bucket: &str, prefix: &str, config: &S3Config) -> Result<Self, StorageError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(StorageError::Runtime)?;
        let region = config
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "us-east-1".to_owned());
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region));
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                id.expose(),
                secret.expose(),
                config.session_token.as_ref().map(|t| t.expose().to_owned()),
                None,
                "ghforge profile",
            ));
        }
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint.clone());
        }
        let shared = runtime.block_on(loader.load());
        // One attempt per call: `ghforge load` retries whole hours with its own backoff, and
        // an error must surface rather than hang in SDK retries.
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(config.path_style())
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(1))
            .build();
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            client: Client::from_conf(s3_config),
            runtime,
        })
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn relative(&self, full: &str) -> String {
        if self.prefix.is_empty() {
            full.to_owned()
        } else {
            full.strip_prefix(&self.prefix)
                .map_or(full, |rest| rest.trim_start_matches('/'))
                .to_owned()
        }
    }

    async fn upload_parts(&self, key: &str, from: &Path, sha256: &str) -> Result<(), StorageError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .metadata("sha256", sha256)
            .send()
            .await
            .map_err(|err| sdk_error("multipart upload", &err))?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        let uploaded = self.send_parts(key, from, &upload_id).await;
        let completed = match uploaded {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|err| sdk_error("completing a multipart upload", &err)),
            Err(err) => Err(err),
        };
        if completed.is_err() {
            // Nothing of a failed upload stays visible (nor billed).
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        completed
    }

    async fn send_parts(
        &self,
        key: &str,
        from: &Path,
        upload_id: &str,
    ) -> Result<Vec<CompletedPart>, StorageError> {
        let mut file =
            std::fs::File::open(from).map_err(|err| StorageError::io("read", from, err))?;
        let mut parts = Vec::new();
        for number in 1.. {
            let mut chunk = Vec::with_capacity(PART_SIZE);
            (&mut file)
                .take(PART_SIZE as u64)
                .read_to_end(&mut chunk)
                .map_err(|err| StorageError::io("read", from, err))?;
            if chunk.is_empty() && number > 1 {
                break;
            }
            let last = chunk.len() < PART_SIZE;
            let part = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(chunk))
                .send()
                .await
                .map_err(|err| sdk_error("uploading a part", &err))?;
            parts.push(
                CompletedPart::builder()
                    .set_e_tag(part.e_tag().map(str::to_owned))
                    .part_number(number)
                    .build(),
            );
            if last {
                break;
            }
        }
        Ok(parts)
    }
}

impl Storage for S3Storage {
    fn url(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.full_key(key))
    }

    fn put_file(&self, key: &str, from: &Path, sha256: &str) -> Result<(), StorageError> {
        let key = self.full_key(key);
        let size = std::fs::metadata(from)
            .map_err(|err| StorageError::io("read", from, err))?
            .len();
        self.runtime.block_on(async {
            if size > PART_SIZE as u64 {
                return self.upload_parts(&key, from, sha256).await;
            }
            let body = ByteStream::from_path(from)
                .await
                .map_err(|err| StorageError::io("read", from, std::io::Error::other(err)))?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .metadata("sha256", sha256)
                .body(body)
                .send()
                .await
                .map(|_| ())
                .map_err(|err| sdk_error("upload", &err))
        })
    }

    fn get(&self, key: &str) -> Result<Option<Box<dyn Read + Send>>, StorageError> {
        let key = self.full_key(key);
        self.runtime.block_on(async {
            let output = match self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
            {
                Ok(output) => output,
                Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                    return Ok(None);
                }
                Err(err) => return Err(sdk_error("download", &err)),
            };
            let bytes = output
                .body
                .collect()
                .await
                .map_err(|err| sdk_error("download", &err))?
                .into_bytes();
            Ok(Some(
                Box::new(std::io::Cursor::new(bytes)) as Box<dyn Read + Send>
            ))
        })
    }

    fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        let full = self.full_key(key);
        self.runtime.block_on(async {
            match self
                .client
                .head_object()
                .bucket(&self.bucket)
                .key(&full)
                .send()
                .await
            {
                Ok(output) => Ok(Some(ObjectInfo {
                    key: key.to_owned(),
                    size: output.content_length().unwrap_or(0).max(0) as u64,
                    sha256: output.metadata().and_then(|m| m.get("sha256").cloned()),
                })),
                Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
                Err(err) => Err(sdk_error("head", &err)),
            }
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let full = self.full_key(prefix);
        self.runtime.block_on(async {
            let mut objects = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .prefix(&full)
                    .set_continuation_token(token.take())
                    .send()
                    .await
                    .map_err(|err| sdk_error("list", &err))?;
                for object in page.contents() {
                    if let Some(key) = object.key() {
                        objects.push(ObjectInfo {
                            key: self.relative(key),
                            size: object.size().unwrap_or(0).max(0) as u64,
                            sha256: None,
                        });
                    }
                }
                match page.next_continuation_token() {
                    Some(next) if page.is_truncated().unwrap_or(false) => {
                        token = Some(next.to_owned());
                    }
                    _ => break,
                }
            }
            objects.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(objects)
        })
    }

    fn delete(&self, keys: &[String]) -> Result<(), StorageError> {
        self.runtime.block_on(async {
            for key in keys {
                self.client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(self.full_key(key))
                    .send()
                    .await
                    .map_err(|err| sdk_error("delete", &err))?;
            }
            Ok(())
        })
    }
}
