using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Lb.Agent.Demo;

namespace Lb.ScalingBench;

/// <summary>
/// One nginx (Debian's) serving HTTP on port 80 in a backend namespace, with its configuration, pid,
/// logs and temp paths in its own directory, in the foreground (daemon off) so this process owns it
/// and <see cref="Dispose"/> kills it with its workers.
/// </summary>
public sealed class Nginx : IDisposable
{
    private readonly Process _process;

    public Nginx(string ns, string name, string directory)
    {
        Directory.CreateDirectory(directory);
        Directory.CreateDirectory(Path.Combine(directory, "tmp"));
        Namespace = ns;
        ConfigPath = Path.Combine(directory, "nginx.conf");
        File.WriteAllText(ConfigPath, $$"""
            user root;
            daemon off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections 8192; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/tmp/body;
                proxy_temp_path {{directory}}/tmp/proxy;
                fastcgi_temp_path {{directory}}/tmp/fastcgi;
                uwsgi_temp_path {{directory}}/tmp/uwsgi;
                scgi_temp_path {{directory}}/tmp/scgi;
                keepalive_timeout 30;
                server {
                    listen 80 backlog=4096;
                    location / { default_type text/plain; return 200 "{{name}}\n"; }
                }
            }
            """);
        var psi = new ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        // nsenter for a network namespace alone execs nginx in place, so this process is nginx's master.
        foreach (var a in new[] { $"--net=/run/netns/{ns}", "nginx", "-c", ConfigPath, "-p", directory })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start nginx in {ns}");
        WaitUntilListening(TimeSpan.FromSeconds(10));
    }

    public string Namespace { get; }
    public string ConfigPath { get; }

    private void WaitUntilListening(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"nginx in {Namespace} exited {_process.ExitCode}: {_process.StandardError.ReadToEnd().Trim()}");
            var listening = InNamespace.Run(Namespace, () =>
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    s.Connect(new IPEndPoint(IPAddress.Loopback, 80));
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            });
            if (listening)
                return;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"nginx in {Namespace} did not listen on port 80 within {timeout.TotalSeconds} s");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
