using System.Net.Http;
using System.Text;
using Lb.Kubernetes.Client;
using static Lb.Kubernetes.Tests.Client.Objects;

namespace Lb.Kubernetes.Tests.Client;

public sealed class KubeConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lb-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string KubeConfig(string server, string caLine, string userLines, string current = "prod") => Write("config", $"""
        apiVersion: v1
        kind: Config
        current-context: {current}
        clusters:
          - name: prod-cluster
            cluster:
              server: {server}
              {caLine}
          - name: dev-cluster
            cluster:
              server: https://dev.example.com:6443
              insecure-skip-tls-verify: true
        contexts:
          - name: prod
            context: {"{"}cluster: prod-cluster, user: prod-user{"}"}
          - name: dev
            context: {"{"}cluster: dev-cluster, user: dev-user{"}"}
        users:
          - name: prod-user
            user:
        {userLines}
          - name: dev-user
            user:
              token: dev-token
        """);

    [Fact]
    public async Task FromKubeConfig_CurrentContextWithToken_UsesServerCaAndToken()
    {
        using var certs = new Certificates();
        var path = KubeConfig("https://10.0.0.1:6443", $"certificate-authority-data: {B64(certs.CaPem)}", "      token: prod-token");

        var connection = KubeConfigLoader.FromKubeConfig(path);

        Assert.Equal(new Uri("https://10.0.0.1:6443"), connection.Server);
        Assert.Equal(certs.Ca.Thumbprint, Assert.Single(connection.CertificateAuthorities!).Thumbprint);
        Assert.Equal("prod-token", await connection.Token!.GetAsync(CancellationToken.None));
        Assert.False(connection.InsecureSkipTlsVerify);
        Assert.Null(connection.ClientCertificate);
    }

    [Fact]
    public async Task FromKubeConfig_NamedContext_UsesThatContextsClusterAndUser()
    {
        var path = KubeConfig("https://10.0.0.1:6443", "", "      token: prod-token");

        var connection = KubeConfigLoader.FromKubeConfig(path, "dev");

        Assert.Equal(new Uri("https://dev.example.com:6443"), connection.Server);
        Assert.True(connection.InsecureSkipTlsVerify);
        Assert.Equal("dev-token", await connection.Token!.GetAsync(CancellationToken.None));
    }

    [Fact]
    public void FromKubeConfig_UnknownContext_ErrorNamesIt()
    {
        var path = KubeConfig("https://10.0.0.1:6443", "", "      token: prod-token");

        var error = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.FromKubeConfig(path, "staging"));

        Assert.Contains("no context named 'staging'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromKubeConfig_FilesRelativeToConfig_ReadsCaClientCertKeyAndTokenFile()
    {
        using var certs = new Certificates();
        Write("ca.crt", certs.CaPem);
        Write("client.crt", certs.ClientPem);
        Write("client.key", certs.ClientKeyPem);
        var tokenFile = Write("token", "file-token-1\n");
        var path = KubeConfig("https://10.0.0.1:6443", "certificate-authority: ca.crt",
            "      client-certificate: client.crt\n      client-key: client.key\n      tokenFile: token");

        var connection = KubeConfigLoader.FromKubeConfig(path);

        Assert.Equal(certs.Ca.Thumbprint, Assert.Single(connection.CertificateAuthorities!).Thumbprint);
        Assert.Equal(certs.Client.Thumbprint, connection.ClientCertificate!.Thumbprint);
        Assert.True(connection.ClientCertificate.HasPrivateKey);
        Assert.Equal("file-token-1", await connection.Token!.GetAsync(CancellationToken.None));
        File.WriteAllText(tokenFile, "file-token-2\n");
        Assert.Equal("file-token-2", await connection.Token.GetAsync(CancellationToken.None));
    }

    [Fact]
    public void FromKubeConfig_CertificateWithoutKey_Refused()
    {
        using var certs = new Certificates();
        var path = KubeConfig("https://10.0.0.1:6443", "", $"      client-certificate-data: {B64(certs.ClientPem)}");

        var error = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.FromKubeConfig(path));

        Assert.Contains("needs both the certificate and the key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InCluster_EnvironmentAndServiceAccount_BuildsHttpsConnectionWithRotatingToken()
    {
        using var certs = new Certificates();
        Write("token", "sa-token");
        Write("ca.crt", certs.CaPem);
        var env = new Dictionary<string, string> { ["KUBERNETES_SERVICE_HOST"] = "fd00:96::1", ["KUBERNETES_SERVICE_PORT"] = "443" };

        var connection = KubeConfigLoader.InCluster(name => env.GetValueOrDefault(name), _dir);

        Assert.Equal(new Uri("https://[fd00:96::1]:443"), connection.Server);
        Assert.Equal(certs.Ca.Thumbprint, Assert.Single(connection.CertificateAuthorities!).Thumbprint);
        Assert.Contains(Path.Combine(_dir, "token"), connection.Token!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void InCluster_NoEnvironment_ErrorSaysNotInAPod()
    {
        var error = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.InCluster(_ => null, _dir));

        Assert.Contains("KUBERNETES_SERVICE_HOST", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_TlsWithConfiguredCaAndClientCertificate_Succeeds()
    {
        using var certs = new Certificates();
        await using var server = new TestApiServer();
        server.UseTls(certs.Server);
        server.Upsert(Services, Service("web", "198.51.100.1"));
        await server.StartAsync();
        var path = KubeConfig(server.Uri.ToString().TrimEnd('/'), $"certificate-authority-data: {B64(certs.CaPem)}",
            $"      client-certificate-data: {B64(certs.ClientPem)}\n      client-key-data: {B64(certs.ClientKeyPem)}");
        using var api = new KubernetesApiClient(KubeConfigLoader.FromKubeConfig(path));

        var list = await api.ListAsync(Services, 10, CancellationToken.None);

        Assert.Single(list.Items);
        Assert.Contains("CN=lb-agent", Assert.Single(server.ClientCertificates), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_TlsServerSignedByAnotherCa_Refused()
    {
        using var certs = new Certificates();
        using var other = new Certificates();
        await using var server = new TestApiServer();
        server.UseTls(certs.Server);
        await server.StartAsync();
        using var api = new KubernetesApiClient(new KubernetesConnection(server.Uri, [other.Ca]));

        await Assert.ThrowsAsync<HttpRequestException>(() => api.ListAsync(Services, 10, CancellationToken.None));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task ListAsync_InsecureSkipTlsVerify_AcceptsUnknownServer()
    {
        using var certs = new Certificates();
        await using var server = new TestApiServer();
        server.UseTls(certs.Server);
        await server.StartAsync();
        using var api = new KubernetesApiClient(new KubernetesConnection(server.Uri, InsecureSkipTlsVerify: true));

        var list = await api.ListAsync(Services, 10, CancellationToken.None);

        Assert.Empty(list.Items);
    }
}
