using System.Security.Cryptography.X509Certificates;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace Lb.Kubernetes.Client;

/// <summary>
/// Reads credentials the way kubectl does: a kubeconfig file (its current context or a named one), or,
/// inside a pod, the service account's token and CA with KUBERNETES_SERVICE_HOST/PORT.
/// </summary>
public static class KubeConfigLoader
{
    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>Loads one context of a kubeconfig. Relative file names in it are relative to the file's directory.</summary>
    /// <exception cref="KubeConfigException">The file, the context, its cluster or its user is missing or unusable.</exception>
    public static KubernetesConnection FromKubeConfig(string path, string? context = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"kubeconfig {path}: {e.Message}", e);
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new KubeConfigException($"kubeconfig {path}: not YAML ({e.Message})", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new KubeConfigException($"kubeconfig {path}: empty");

        var baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var contextName = context ?? Scalar(root, "current-context")
            ?? throw new KubeConfigException($"kubeconfig {path}: no current-context, and no context was named");
        var contextNode = Named(root, "contexts", contextName, "context", path);
        var clusterName = Scalar(contextNode, "cluster")
            ?? throw new KubeConfigException($"kubeconfig {path}: context '{contextName}' names no cluster");
        var cluster = Named(root, "clusters", clusterName, "cluster", path);
        var userName = Scalar(contextNode, "user");
        var user = userName is null ? null : Named(root, "users", userName, "user", path);

        var server = Scalar(cluster, "server")
            ?? throw new KubeConfigException($"kubeconfig {path}: cluster '{clusterName}' has no server");
        if (!Uri.TryCreate(server, UriKind.Absolute, out var serverUri) || serverUri.Scheme is not ("https" or "http"))
            throw new KubeConfigException($"kubeconfig {path}: cluster '{clusterName}' server '{server}' is not an http(s) URL");

        var where = $"kubeconfig {path}, cluster '{clusterName}'";
        var authorities = Pem(cluster, "certificate-authority-data", "certificate-authority", baseDir, where) is { } caPem
            ? Certificates(caPem, where)
            : null;
        var insecure = Scalar(cluster, "insecure-skip-tls-verify") is "true";

        X509Certificate2? clientCertificate = null;
        BearerToken? token = null;
        if (user is not null)
        {
            var who = $"kubeconfig {path}, user '{userName}'";
            var certPem = Pem(user, "client-certificate-data", "client-certificate", baseDir, who);
            var keyPem = Pem(user, "client-key-data", "client-key", baseDir, who);
            if ((certPem is null) != (keyPem is null))
                throw new KubeConfigException($"{who}: a client certificate needs both the certificate and the key");
            if (certPem is not null)
            {
                try
                {
                    clientCertificate = X509Certificate2.CreateFromPem(certPem, keyPem);
                }
                catch (System.Security.Cryptography.CryptographicException e)
                {
                    throw new KubeConfigException($"{who}: the client certificate or key is not usable PEM ({e.Message})", e);
                }
            }
            if (Scalar(user, "token") is { Length: > 0 } fixedToken)
                token = BearerToken.Fixed(fixedToken);
            else if (Scalar(user, "tokenFile") is { Length: > 0 } tokenFile)
                token = BearerToken.FromFile(Path.Combine(baseDir, tokenFile));
            if (user.Children.ContainsKey(new YamlScalarNode("exec")) || user.Children.ContainsKey(new YamlScalarNode("auth-provider")))
            {
                if (clientCertificate is null && token is null)
                    throw new KubeConfigException($"{who}: exec and auth-provider credential plugins are not supported; use a token, a token file or a client certificate");
            }
        }

        return new KubernetesConnection(serverUri, authorities, clientCertificate, token, insecure);
    }

    /// <summary>
    /// The pod's own credentials: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, and the service
    /// account's token (re-read for every request, as the kubelet rotates it) and CA.
    /// </summary>
    public static KubernetesConnection InCluster(Func<string, string?>? environment = null, string directory = ServiceAccountDirectory)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var host = environment("KUBERNETES_SERVICE_HOST");
        var port = environment("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
            throw new KubeConfigException("not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
        var tokenPath = Path.Combine(directory, "token");
        var caPath = Path.Combine(directory, "ca.crt");
        if (!File.Exists(tokenPath))
            throw new KubeConfigException($"in-cluster: no service account token at {tokenPath} (is automountServiceAccountToken off?)");
        var hostPart = host.Contains(':') ? $"[{host}]" : host;
        if (!Uri.TryCreate($"https://{hostPart}:{port}", UriKind.Absolute, out var server))
            throw new KubeConfigException($"in-cluster: KUBERNETES_SERVICE_HOST '{host}' and KUBERNETES_SERVICE_PORT '{port}' do not make a URL");
        var authorities = File.Exists(caPath) ? Certificates(File.ReadAllText(caPath), $"in-cluster CA {caPath}") : null;
        return new KubernetesConnection(server, authorities, null, BearerToken.FromFile(tokenPath));
    }

    private static X509Certificate2Collection Certificates(string pem, string where)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new KubeConfigException($"{where}: the certificate authority is not PEM ({e.Message})", e);
        }
        if (collection.Count == 0)
            throw new KubeConfigException($"{where}: the certificate authority holds no certificate");
        return collection;
    }

    /// <summary>The PEM text of a field given inline (base64 <c>-data</c>) or as a file; null when neither is there.</summary>
    private static string? Pem(YamlMappingNode node, string dataKey, string fileKey, string baseDir, string where)
    {
        if (Scalar(node, dataKey) is { Length: > 0 } data)
        {
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(data));
            }
            catch (FormatException e)
            {
                throw new KubeConfigException($"{where}: {dataKey} is not base64", e);
            }
        }
        if (Scalar(node, fileKey) is { Length: > 0 } file)
        {
            var full = Path.Combine(baseDir, file);
            try
            {
                return File.ReadAllText(full);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KubeConfigException($"{where}: {fileKey} {full}: {e.Message}", e);
            }
        }
        return null;
    }

    private static YamlMappingNode Named(YamlMappingNode root, string listKey, string name, string innerKey, string path)
    {
        if (root.Children.TryGetValue(new YamlScalarNode(listKey), out var list) && list is YamlSequenceNode sequence)
        {
            foreach (var entry in sequence.OfType<YamlMappingNode>())
            {
                if (Scalar(entry, "name") == name)
                {
                    return entry.Children.TryGetValue(new YamlScalarNode(innerKey), out var inner) && inner is YamlMappingNode mapping
                        ? mapping
                        : new YamlMappingNode();
                }
            }
        }
        throw new KubeConfigException($"kubeconfig {path}: no {innerKey} named '{name}' in {listKey}");
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;
}
