package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"wowlab/internal/cli"
	"wowlab/sentinel"
	"wowlab/sentinel/server"
	"wowlab/sentinel/store"
)

// osEnv is the process environment; tests pass a map.
type osEnv struct{}

func (osEnv) LookupEnv(k string) (string, bool) { return os.LookupEnv(k) }

type environment interface {
	LookupEnv(string) (string, bool)
}

// options are the flags shared by the commands.
type options struct {
	databaseURL  string
	dbMaxConns   int // pool size; 0 (outside serve): store.DefaultMaxConns
	dataDir      string
	listen       string
	jwtSecret    string
	chunkTimeout time.Duration
	chunkTarget  time.Duration
	offlineAfter time.Duration
	reclaimAfter time.Duration
	server       string
	token        string
	anonKey      string
	publicURL    string
	limits       limits
}

func newRoot(env environment) *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:   "sentinel",
		Short: "WoWLab coordinator: node API, gateway, scheduler and aggregation on PostgreSQL or SQLite",
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return cli.ApplyEnv(cmd.Flags(), env.LookupEnv)
		},
	}
	db := func(c *cobra.Command) {
		c.Flags().StringVar(&o.databaseURL, "database-url", "", "PostgreSQL connection string; without it the embedded SQLite store in --data-dir is used")
		cli.BindEnv(c.Flags(), "database-url", "DATABASE_URL")
		c.Flags().StringVar(&o.dataDir, "data-dir", "", "directory of the embedded SQLite store, used without --database-url (default: user data dir/wowlab-sentinel)")
		cli.BindEnv(c.Flags(), "data-dir", "SENTINEL_DATA_DIR")
	}
	user := func(c *cobra.Command) {
		c.Flags().StringVar(&o.server, "server", "http://localhost:8080", "sentinel URL")
		cli.BindEnv(c.Flags(), "server", "WOWLAB_SERVER")
		c.Flags().StringVar(&o.token, "token", "", "user token (from 'sentinel users add')")
		cli.BindEnv(c.Flags(), "token", "WOWLAB_TOKEN")
		c.Flags().StringVar(&o.anonKey, "anon-key", "", "anon key of the sentinel (from 'sentinel keys anon')")
		cli.BindEnv(c.Flags(), "anon-key", "WOWLAB_ANON_KEY")
	}

	serve := &cobra.Command{
		Use: "serve", Short: "Serve the node API, the REST and Realtime gateway, /status and /metrics", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), o, cmd.ErrOrStderr()) },
	}
	db(serve)
	serve.Flags().StringVar(&o.listen, "listen", ":8080", "address to listen on")
	cli.BindEnv(serve.Flags(), "listen", "SENTINEL_LISTEN")
	serve.Flags().StringVar(&o.jwtSecret, "jwt-secret", "", "secret signing node tokens (HS256, at least 32 bytes)")
	cli.BindEnv(serve.Flags(), "jwt-secret", "SENTINEL_JWT_SECRET")
	serve.Flags().StringVar(&o.publicURL, "public-url", "", "base URL nodes and users reach this sentinel at, published by GET /bootstrap (default: the scheme and host of each request)")
	cli.BindEnv(serve.Flags(), "public-url", "SENTINEL_PUBLIC_URL")
	serve.Flags().DurationVar(&o.chunkTimeout, "chunk-timeout", sentinel.DefaultChunkTimeout, "hard limit on one chunk's run before it is taken back")
	cli.BindEnv(serve.Flags(), "chunk-timeout", "SENTINEL_CHUNK_TIMEOUT")
	serve.Flags().DurationVar(&o.chunkTarget, "chunk-target", sentinel.DefaultChunkTarget, "how long a sized chunk should take its node (nodes announcing sized chunks)")
	cli.BindEnv(serve.Flags(), "chunk-target", "SENTINEL_CHUNK_TARGET")
	serve.Flags().DurationVar(&o.offlineAfter, "offline-after", sentinel.DefaultOfflineAfter, "a node without heartbeat or presence for this long is offline")
	cli.BindEnv(serve.Flags(), "offline-after", "SENTINEL_OFFLINE_AFTER")
	serve.Flags().DurationVar(&o.reclaimAfter, "reclaim-after", sentinel.DefaultReclaimAfter, "running chunks of a node silent for this long go back to pending")
	cli.BindEnv(serve.Flags(), "reclaim-after", "SENTINEL_RECLAIM_AFTER")
	serve.Flags().IntVar(&o.dbMaxConns, "database-max-conns", store.DefaultMaxConns,
		"PostgreSQL connections each instance may hold (leave room under the server's max_connections for every instance)")
	cli.BindEnv(serve.Flags(), "database-max-conns", "SENTINEL_DATABASE_MAX_CONNS")
	addLimitFlags(serve.Flags(), &o.limits)

	migrate := &cobra.Command{
		Use: "migrate", Short: "Create or update the database schema", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := openDatabase(cmd.Context(), o, dbMigrate)
			if err != nil {
				return err
			}
			defer d.close()
			if err := d.Migrate(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s at schema version %d\n", d.what, store.LatestSchemaVersion())
			return nil
		},
	}
	db(migrate)

	keys := &cobra.Command{Use: "keys", Short: "Print API keys"}
	keysAnon := &cobra.Command{
		Use: "anon", Short: "Print the anon key (the apikey of every REST and Realtime request)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(o.jwtSecret) < 32 {
				return cli.Usagef("%s", errJWTSecret)
			}
			key, err := sentinel.AnonKey([]byte(o.jwtSecret), time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), key)
			return nil
		},
	}
	keysAnon.Flags().StringVar(&o.jwtSecret, "jwt-secret", "", "secret the sentinel signs tokens with (HS256, at least 32 bytes)")
	cli.BindEnv(keysAnon.Flags(), "jwt-secret", "SENTINEL_JWT_SECRET")
	keys.AddCommand(keysAnon)

	users := &cobra.Command{Use: "users", Short: "Manage users"}
	usersAdd := &cobra.Command{
		Use: "add NAME", Short: "Create a user and print its id and token (shown once)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withService(cmd.Context(), o, func(svc *sentinel.Service) error {
				u, tok, err := svc.AddUser(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "id:    %s\ntoken: %s\n", u.ID, tok)
				return nil
			})
		},
	}
	db(usersAdd)
	users.AddCommand(usersAdd)

	nodes := &cobra.Command{Use: "nodes", Short: "Manage nodes"}
	nodesList := &cobra.Command{
		Use: "list", Short: "List nodes", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withService(cmd.Context(), o, func(svc *sentinel.Service) error {
				ns, err := svc.ListNodes(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tSTATUS\tOWNER\tCLAIM CODE\tCORES\tMAX PARALLEL\tPLATFORM\tVERSION\tLAST SEEN")
				for _, n := range ns {
					seen := "-"
					if !n.LastSeenAt.IsZero() {
						seen = n.LastSeenAt.UTC().Format(time.RFC3339)
					}
					// Names, platforms and versions come from nodes and users:
					// escaped, they cannot act on the operator's terminal.
					p := cli.Printable
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", p(n.ID), p(n.Name), p(n.Status), p(dash(n.UserID)),
						p(dash(n.ClaimCode)), n.TotalCores, n.MaxParallel, p(n.Platform), p(n.Version), seen)
				}
				return w.Flush()
			})
		},
	}
	db(nodesList)
	var claimUser, claimName string
	var claimMax int
	nodesClaim := &cobra.Command{
		Use: "claim CODE", Short: "Give the node with a claim code to a user", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if claimUser == "" {
				return cli.Usagef("--user is required")
			}
			req := sentinel.ClaimRequest{UserID: claimUser, Code: args[0]}
			if cmd.Flags().Changed("name") {
				req.Name = &claimName
			}
			if cmd.Flags().Changed("max-parallel") {
				req.MaxParallel = &claimMax
			}
			return withService(cmd.Context(), o, func(svc *sentinel.Service) error {
				n, err := svc.ClaimNode(cmd.Context(), req)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "claimed node %s (%s, max parallel %d)\n", n.ID, n.Name, n.MaxParallel)
				return nil
			})
		},
	}
	db(nodesClaim)
	nodesClaim.Flags().StringVar(&claimUser, "user", "", "id of the user who gets the node (required)")
	nodesClaim.Flags().StringVar(&claimName, "name", "", "name of the node")
	nodesClaim.Flags().IntVar(&claimMax, "max-parallel", 0, "most chunks the node runs at once")
	var grantTo string
	nodesGrant := &cobra.Command{
		Use:   "grant NODE_ID",
		Short: "Let another user's jobs of access type user run on a node",
		Long: "grant records that the node's owner lets the jobs of another user (submitted with\n" +
			"--access user) run on the node, as the portal would on the owner's behalf.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if grantTo == "" {
				return cli.Usagef("--user is required")
			}
			return withService(cmd.Context(), o, func(svc *sentinel.Service) error {
				owner, err := svc.NodeOwner(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if err := svc.GrantNode(cmd.Context(), owner, args[0], grantTo); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "node %s now also runs jobs of user %s\n", args[0], grantTo)
				return nil
			})
		},
	}
	db(nodesGrant)
	nodesGrant.Flags().StringVar(&grantTo, "user", "", "id of the user whose jobs may run on the node (required)")
	nodes.AddCommand(nodesList, nodesClaim, nodesGrant)

	jobs := &cobra.Command{Use: "jobs", Short: "Submit jobs, follow and cancel them (over HTTP, as a user)"}
	var configFile, access string
	var iterations int
	var submitWait, statusWait waitFlags
	submit := &cobra.Command{
		Use: "submit", Short: "Submit a job; the sentinel checks its config with the engine first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSubmit(cmd, o, configFile, iterations, access, submitWait)
		},
	}
	user(submit)
	submit.Flags().StringVar(&configFile, "config", "", "config JSON file (required)")
	submit.Flags().IntVar(&iterations, "iterations", 0, "iterations to simulate (required)")
	submit.Flags().StringVar(&access, "access", "private", "who may run it: private (your nodes), public (any node) or user (yours and those granted to you)")
	addWaitFlags(submit, &submitWait)
	status := &cobra.Command{
		Use: "status ID", Short: "Show a job", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if statusWait.timeout < 0 {
				return cli.Usagef("--timeout must not be negative")
			}
			c := o.client()
			if statusWait.wait {
				return waitJob(cmd, c, args[0], statusWait.timeout)
			}
			j, err := c.job(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), j)
		},
	}
	user(status)
	addWaitFlags(status, &statusWait)
	cancel := &cobra.Command{
		Use: "cancel ID", Short: "End a job: it and its unfinished chunks fail with \"" + sentinel.CancelledError + "\"", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := json.Marshal(map[string]string{"p_job_id": args[0]})
			if err != nil {
				return err
			}
			if err := o.client().do(cmd.Context(), "POST", "/rest/v1/rpc/cancel_job", body, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s cancelled\n", args[0])
			return nil
		},
	}
	user(cancel)
	jobs.AddCommand(submit, status, cancel)

	rotations := newRotationsCommand(o, user)

	root.AddCommand(serve, migrate, keys, users, nodes, jobs, rotations, newDevCommand(), cli.VersionCommand("sentinel"))
	return root
}

// errJWTSecret says what to do when the JWT secret is missing or short.
const errJWTSecret = "--jwt-secret (or SENTINEL_JWT_SECRET) must be at least 32 bytes, on SQLite as on PostgreSQL: " +
	"make one with 'openssl rand -hex 32' and keep it, as it signs every anon key, node token and console session"

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// withService runs fn with a service on the migrated database. Admin
// commands never sign tokens, so a throwaway secret is fine.
func withService(ctx context.Context, o *options, fn func(*sentinel.Service) error) error {
	d, err := openDatabase(ctx, o, dbUse)
	if err != nil {
		return err
	}
	defer d.close()
	svc, err := sentinel.New(sentinel.Config{Store: d, JWTSecret: []byte(strings.Repeat("x", 32))})
	if err != nil {
		return err
	}
	return fn(svc)
}

func runServe(ctx context.Context, o *options, stderr io.Writer) error {
	if len(o.jwtSecret) < 32 {
		return cli.Usagef("%s", errJWTSecret)
	}
	if o.chunkTimeout < time.Minute {
		return cli.Usagef("--chunk-timeout must be at least 1m")
	}
	if o.chunkTarget < time.Second || o.chunkTarget > o.chunkTimeout/2 {
		return cli.Usagef("--chunk-target must be at least 1s and at most half of --chunk-timeout")
	}
	if o.offlineAfter < time.Second || o.reclaimAfter < o.offlineAfter {
		return cli.Usagef("--offline-after must be at least 1s and --reclaim-after at least as long")
	}
	if err := o.limits.resolve(); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := openDatabase(ctx, o, dbServe)
	if err != nil {
		return err
	}
	defer d.close()
	if d.listen == nil {
		log.Info("using the embedded SQLite store, locked against a second instance; use --database-url (PostgreSQL) for several", "path", d.what)
	}
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		return cli.Usagef("listen on %s: %v", o.listen, err)
	}
	srv, err := server.Start(server.Config{
		Store: d, Listen: d.listen, JWTSecret: []byte(o.jwtSecret), Logger: log,
		ChunkTimeout: o.chunkTimeout, ChunkTarget: o.chunkTarget, OfflineAfter: o.offlineAfter, ReclaimAfter: o.reclaimAfter,
		ClaimChecksPerUser: o.limits.claimChecksPerUser, ClaimChecksPerAddress: o.limits.claimChecksPerAddress,
		RegistrationsPerAddress: o.limits.registrationsPerAddress, ClientIPHeader: o.limits.clientIPHeader,
		MaxBodyMemory: o.limits.maxBodyMemory, Realtime: o.limits.realtime, HTTP: o.limits.http,
		PublicURL: o.publicURL,
	}, l)
	if err != nil {
		l.Close()
		return err
	}
	log.Info("sentinel serving", "addr", l.Addr().String(), "store", d.what)
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case <-srv.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
