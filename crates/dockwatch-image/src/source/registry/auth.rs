//! Registry credentials from the Docker client's configuration: `~/.docker/config.json` (or
//! `$DOCKER_CONFIG/config.json`) `auths`, and the `credsStore`/`credHelpers` helpers run as
//! `docker-credential-NAME get` (both done by the `docker_credential` crate).

use docker_credential::DockerCredential;
use oci_client::secrets::RegistryAuth;

/// The key Docker Hub's credentials are stored under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The credentials for `registry` (a host, `host:port`), anonymous when none are configured.
pub fn credentials(registry: &str) -> RegistryAuth {
    let key = match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_KEY,
        other => other,
    };
    match docker_credential::get_credential(key) {
        Ok(DockerCredential::UsernamePassword(user, password)) => {
            tracing::debug!(
                registry,
                user,
                "Using credentials from the Docker configuration."
            );
            RegistryAuth::Basic(user, password)
        }
        Ok(DockerCredential::IdentityToken(_)) => {
            // An identity token is an OAuth2 refresh token, which the registry client cannot
            // exchange; pulling anonymously is the best remaining option.
            tracing::warn!(
                registry,
                "The Docker configuration holds an identity token, which is not supported; pulling anonymously."
            );
            RegistryAuth::Anonymous
        }
        Err(error) => {
            tracing::debug!(registry, %error, "No credentials in the Docker configuration; pulling anonymously.");
            RegistryAuth::Anonymous
        }
    }
}
