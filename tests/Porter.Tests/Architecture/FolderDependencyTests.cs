using System.Reflection;
using System.Reflection.Emit;
using Xunit;

namespace Porter.Tests.Architecture;

/// <summary>
/// The server's folders depend on each other in one direction, along the request path (hosting -> rpc ->
/// attachments -> {authorization, namespaces, cni runtime, dhcp} -> {cni config, configuration} -> leaves). Read from
/// the compiled server: every type a folder's code names, in signatures and in method bodies. (Constants are compiled
/// into the code that uses them, so a const from another folder does not show here.)
/// </summary>
public sealed class FolderDependencyTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    [Fact]
    public void Server_folders_have_no_dependency_cycle()
    {
        var graph = FolderGraph(typeof(Porter.Server.Hosting.ServerHost).Assembly);

        var cycle = FindCycle(graph);

        Assert.True(cycle is null, $"the server folders depend on each other in a cycle: {string.Join(" -> ", cycle ?? [])}\n" +
            string.Join("\n", graph.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} -> {string.Join(", ", kv.Value.Order())}")));
    }

    [Fact]
    public void The_cycle_finder_finds_cycles()
    {
        var graph = new Dictionary<string, HashSet<string>> { ["A"] = ["B"], ["B"] = ["C"], ["C"] = ["A"], ["D"] = ["A"] };
        Assert.Equal(["A", "B", "C", "A"], FindCycle(graph));
        Assert.Null(FindCycle(new Dictionary<string, HashSet<string>> { ["A"] = ["B"], ["B"] = [], ["C"] = ["A", "B"] }));
    }

    /// <summary>"Attachments", "Cni.Runtime", "Hosting" (with its subfolders), ...; null outside the server.</summary>
    private static string? FolderOf(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }
        var ns = type.Namespace ?? "";
        if (!ns.StartsWith("Porter.Server.", StringComparison.Ordinal))
        {
            return null;
        }
        var parts = ns["Porter.Server.".Length..].Split('.');
        return parts[0] == "Cni" && parts.Length > 1 ? $"Cni.{parts[1]}" : parts[0];
    }

    private static Dictionary<string, HashSet<string>> FolderGraph(Assembly assembly)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (FolderOf(type) is not { } from)
            {
                continue;
            }
            var edges = graph.TryGetValue(from, out var existing) ? existing : graph[from] = [];
            foreach (var used in Referenced(type))
            {
                if (FolderOf(used) is { } to && to != from)
                {
                    edges.Add(to);
                }
            }
        }
        return graph;
    }

    private static IEnumerable<Type> Referenced(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }
        foreach (var i in type.GetInterfaces())
        {
            yield return i;
        }
        foreach (var field in type.GetFields(all))
        {
            yield return field.FieldType;
        }
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }
            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }
            foreach (var used in UsedInBody(method))
            {
                yield return used;
            }
        }
    }

    /// <summary>The types the IL of a method names: calls, field accesses, casts, allocations, tokens.</summary>
    private static IEnumerable<Type> UsedInBody(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }
        var typeArgs = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            var value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    var member = Resolve(method.Module, BitConverter.ToInt32(il, i), typeArgs, methodArgs);
                    if (member is Type used)
                    {
                        yield return used;
                    }
                    else if (member?.DeclaringType is { } declaring)
                    {
                        yield return declaring;
                        if (member is FieldInfo field)
                        {
                            yield return field.FieldType;
                        }
                    }
                    i += 4;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + (4 * BitConverter.ToInt32(il, i));
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                default:
                    i += 4;
                    break;
            }
        }
    }

    private static MemberInfo? Resolve(Module module, int token, Type[]? typeArgs, Type[]? methodArgs)
    {
        try
        {
            return module.ResolveMember(token, typeArgs, methodArgs);
        }
        catch (ArgumentException)
        {
            return null; // a string token or a member of another module
        }
    }

    private static List<string>? FindCycle(Dictionary<string, HashSet<string>> graph)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on the path, 2 = done
        var path = new List<string>();
        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in (graph.TryGetValue(node, out var edges) ? edges : []).Order(StringComparer.Ordinal))
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    return [.. path[path.IndexOf(next)..], next];
                }
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found)
                {
                    return found;
                }
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle)
            {
                return cycle;
            }
        }
        return null;
    }
}
