using System.Security.Cryptography.X509Certificates;

namespace Lb.Kubernetes.Client;

/// <summary>Where the API server is and how to prove who we are: what a kubeconfig context or the pod's service account says.</summary>
/// <param name="Server">The API server's base address, as <c>https://10.96.0.1:443</c>.</param>
/// <param name="CertificateAuthorities">Roots that sign the server's certificate; null trusts the system's roots.</param>
/// <param name="ClientCertificate">A client certificate with its private key, for certificate authentication.</param>
/// <param name="Token">Where the bearer token comes from, if any.</param>
/// <param name="InsecureSkipTlsVerify">Accept any server certificate (kubeconfig's insecure-skip-tls-verify).</param>
public sealed record KubernetesConnection(
    Uri Server,
    X509Certificate2Collection? CertificateAuthorities = null,
    X509Certificate2? ClientCertificate = null,
    BearerToken? Token = null,
    bool InsecureSkipTlsVerify = false);

/// <summary>A bearer token, fixed or read from a file that may be rotated under us.</summary>
public abstract class BearerToken
{
    public static BearerToken Fixed(string token) => new FixedToken(token);

    /// <summary>
    /// A token file (a projected service-account token, kubeconfig's tokenFile). It is read again for
    /// every request: the kubelet rotates it well before it expires, and a request costs more than a read.
    /// </summary>
    public static BearerToken FromFile(string path) => new FileToken(path);

    public abstract ValueTask<string> GetAsync(CancellationToken cancellationToken);

    private sealed class FixedToken(string token) : BearerToken
    {
        public override ValueTask<string> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(token);

        public override string ToString() => "a fixed token";
    }

    private sealed class FileToken(string path) : BearerToken
    {
        public override async ValueTask<string> GetAsync(CancellationToken cancellationToken) =>
            (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();

        public override string ToString() => $"the token file {path}";
    }
}

/// <summary>A kubeconfig or in-cluster configuration that cannot be used, with the reason.</summary>
public sealed class KubeConfigException(string message, Exception? inner = null) : Exception(message, inner);
